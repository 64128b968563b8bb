import type { FastifyInstance } from 'fastify';
import { ApiError, UnprocessableError } from '../common/errors/api-error';
import { IMPORT_BODY_LIMIT_BYTES, IMPORT_PATH } from './suppression-limits';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function isCsv(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === 'text/csv';
}

/**
 * Lets the suppression import take its file as `text/csv`, up to IMPORT_BODY_LIMIT_BYTES, while
 * every other route keeps JSON only and the service-wide limit: a CSV body sent anywhere else is
 * refused (415) before a byte of it is read. Install after `installRequestRules`, which removes
 * every parser it does not add itself.
 */
export function installCsvImportBody(fastify: FastifyInstance): void {
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    if (isCsv(request.headers['content-type']) && request.routeOptions.url !== IMPORT_PATH) {
      done(new ApiError(415, 'unsupported_media_type', 'The body must be application/json'));
      return;
    }
    done(null, payload);
  });
  fastify.addContentTypeParser(
    'text/csv',
    { parseAs: 'buffer', bodyLimit: IMPORT_BODY_LIMIT_BYTES },
    (_request, body: Buffer, done) => {
      try {
        done(null, UTF8.decode(body));
      } catch {
        // Decoding leniently would store U+FFFD in place of the bytes the caller meant.
        done(new UnprocessableError('invalid_csv', 'The file is not valid UTF-8'), undefined);
      }
    },
  );
}

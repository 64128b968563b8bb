import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApi } from './render';

const ROOT = join(__dirname, '..', '..', '..', '..');
const HINT = 'the committed file is stale: run `npm run openapi` and commit the result';

describe('the committed OpenAPI document', () => {
  it('is what the code generates (openapi.json)', async () => {
    const committed = readFileSync(join(ROOT, 'openapi.json'), 'utf8');
    const generated = await renderOpenApi();
    if (generated !== committed) throw new Error(`openapi.json: ${HINT}`);
  });

  it('gives every operation an example answer and an example of each error it names', () => {
    type Media = { example?: unknown; examples?: Record<string, unknown> };
    type Operation = {
      operationId: string;
      responses: Record<string, { content?: Record<string, Media> }>;
    };
    const document = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8')) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const missing: string[] = [];
    for (const item of Object.values(document.paths)) {
      for (const operation of Object.values(item)) {
        for (const [status, answer] of Object.entries(operation.responses)) {
          for (const [type, media] of Object.entries(answer.content ?? {})) {
            if (media.example === undefined && media.examples === undefined) {
              missing.push(`${operation.operationId} ${status} ${type}`);
            }
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('has the client types openapi-typescript makes of it (test/client/openapi-types.ts)', () => {
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'),
        'openapi.json',
        '--default-non-nullable',
        'false',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.status).toBe(0);
    const committed = readFileSync(join(ROOT, 'test', 'client', 'openapi-types.ts'), 'utf8');
    if (run.stdout !== committed) throw new Error(`test/client/openapi-types.ts: ${HINT}`);
  });
});

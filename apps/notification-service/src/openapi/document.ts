import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ERROR_ENVELOPE_SCHEMA, enrichDocument } from './enrich';

/**
 * The OpenAPI document of the service, as served at /docs/json and written to openapi.json by
 * `npm run openapi`: the controllers' decorators (each handler's `@Operation` names its id, summary,
 * errors and example), then one pass that adds what every operation shares (security and scopes,
 * the error envelope).
 */
export function buildOpenApiDocument(app: INestApplication, publicBaseUrl: string): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Notification service')
      .setDescription(
        'Templates, SMS notifications, delivery status and reports. Every answer carries ' +
          '`X-Request-Id`; every error is the envelope `{"success": false, "error": {code, message, details?}}`.',
      )
      .setVersion('1')
      .addServer(publicBaseUrl, 'This instance (PUBLIC_BASE_URL)')
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (`nk_…`, or ADMIN_API_KEY): `Authorization: Bearer <key>`',
        },
        'api_key',
      )
      .build(),
  );
  document.info.license = { name: 'UNLICENSED (internal service)' };
  document.components ??= {};
  document.components.schemas = {
    ...document.components.schemas,
    ErrorEnvelope: ERROR_ENVELOPE_SCHEMA,
  };
  return enrichDocument(document);
}

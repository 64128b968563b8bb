/**
 * The service's HTTP API as its callers use it (the web console, the tests): the types
 * openapi-typescript generates from openapi.json (`npm run openapi`, checked for drift in
 * `npm test`) and openapi-fetch's typed client over them.
 */
import type { components } from './generated/openapi-types';

export { ApiError, type ApiClient, type ApiClientOptions, createApiClient, unwrap } from './client';
export {
  FINAL_STATUSES,
  MESSAGE_CATEGORIES,
  MESSAGE_STATUSES,
  type MessageCategory,
  type MessageStatus,
} from './message-statuses';
export type { components, operations, paths } from './generated/openapi-types';

/** The document's schemas by name: `Schemas['MessageSummary']`. */
export type Schemas = components['schemas'];

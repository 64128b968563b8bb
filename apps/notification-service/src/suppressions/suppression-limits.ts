/** Bounds of what one entry stores: room for a sentence of why, and a system's name. */
export const MAX_REASON_LENGTH = 500;
export const MAX_SOURCE_LENGTH = 100;

/** The import route: the one route that takes a text/csv body, and a larger one than JSON. */
export const IMPORT_PATH = '/v1/suppressions/import';
/**
 * 100,000 rows of `+491512345678,marketing,` are about 3 MB; room for short reasons too. JSON
 * bodies keep the service-wide 1 MiB.
 */
export const IMPORT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

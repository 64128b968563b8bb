/**
 * Keys one GET /v1/api-keys answers with. Revoked keys stay in the table for good, so the list
 * would grow with every key ever made; active keys come first, so they are the ones listed.
 */
export const MAX_API_KEYS_LISTED = 1_000;

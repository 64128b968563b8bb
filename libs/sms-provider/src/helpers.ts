// The library's pure part: types, errors and helpers that never call the provider. Code that must
// not hold the client (everything in the service but its provider port) imports from here.
export * from './types';
export * from './errors';
export * from './webhook-signature';
export * from './segments';
export * from './phone';
export * from './rate-limit';
export * from './error-mapping';

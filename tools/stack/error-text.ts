/** Connection refused on localhost is an AggregateError (IPv4 and IPv6): its first error says it. */
export function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorText(error.errors[0]);
  return error instanceof Error ? error.message : String(error);
}

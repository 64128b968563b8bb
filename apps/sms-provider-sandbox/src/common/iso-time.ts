/** Epoch ms → ISO 8601 UTC with milliseconds; null stays null. */
export function isoTime(epochMs: number | null): string | null {
  return epochMs === null ? null : new Date(epochMs).toISOString();
}

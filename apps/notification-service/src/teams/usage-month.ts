/**
 * The month a team's credits count against: the first day of the UTC calendar month of `now`, as
 * `team_usage.month` holds it. UTC, not a team's zone: every instance and every team turn the
 * month at the same instant, and the provider bills in UTC.
 */
export function usageMonth(now: Date): string {
  const month = String(now.getUTCMonth() + 1).padStart(2, '0');
  return `${now.getUTCFullYear()}-${month}-01`;
}

/**
 * "+14155550100" → "+1415*****00": enough to tell numbers apart in a log, not enough to dial.
 * Short or odd values are masked harder rather than shown.
 */
export function maskPhone(value: string): string {
  if (value.length <= 4) return '*'.repeat(value.length);
  const head = Math.min(5, Math.max(1, value.length - 7));
  const tail = 2;
  return value.slice(0, head) + '*'.repeat(value.length - head - tail) + value.slice(-tail);
}

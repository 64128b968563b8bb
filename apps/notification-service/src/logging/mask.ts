const PHONE = /\+\d{6,15}\b/g;

/** +14155550100 → +1415*****00: enough to tell numbers apart in logs, not enough to use one. */
export function maskPhone(phone: string): string {
  if (phone.length <= 7) return '*'.repeat(phone.length);
  return `${phone.slice(0, 5)}${'*'.repeat(phone.length - 7)}${phone.slice(-2)}`;
}

/** Masks every E.164-looking number inside free text (error messages, provider answers). */
export function maskPhonesIn(text: string): string {
  return text.replace(PHONE, (m) => maskPhone(m));
}

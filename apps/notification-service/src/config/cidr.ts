import { isIP } from 'node:net';

export interface Cidr {
  network: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.0.0.0/8`, `fe80::/10` or a bare address (a /32 or /128); null for anything else. */
export function parseCidr(entry: string): Cidr | null {
  const [network, prefixText, extra] = entry.split('/');
  if (extra !== undefined) return null;
  const version = isIP(network);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefixText === '' || !Number.isInteger(prefix) || prefix < 0 || prefix > max) return null;
  return { network, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export function isCidr(entry: string): boolean {
  return parseCidr(entry) !== null;
}

import { isIP } from 'node:net';

/**
 * What an IPv6 address says about the IPv4 host a packet to it reaches:
 * - `ipv4`: it carries an IPv4 address that is where the packet ends up (mapped `::ffff:a.b.c.d`,
 *   IPv4-compatible `::a.b.c.d`, SIIT `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`);
 * - `tunnel`: a tunnel whose IPv4 end cannot be judged from the address alone (Teredo, NAT64's
 *   local-use prefix, where the IPv4 address sits where the operator chose);
 * - null: a plain IPv6 address (or not an IPv6 address at all).
 */
export type Ipv6Reading =
  { kind: 'ipv4'; ipv4: string; via: string } | { kind: 'tunnel'; via: string };

export function readIpv6(address: string): Ipv6Reading | null {
  const g = ipv6Groups(address);
  if (!g) return null;
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const ipv4 = (high: number, low: number) =>
    [high >> 8, high & 255, low >> 8, low & 255].join('.');
  if (zero(0, 5) && g[5] === 0xffff) return { kind: 'ipv4', ipv4: ipv4(g[6], g[7]), via: 'mapped' };
  // :: and ::1 are IPv6's own unspecified and loopback addresses, judged as such.
  if (zero(0, 6) && (g[6] !== 0 || g[7] > 1)) {
    return { kind: 'ipv4', ipv4: ipv4(g[6], g[7]), via: 'IPv4-compatible' };
  }
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) {
    return { kind: 'ipv4', ipv4: ipv4(g[6], g[7]), via: 'IPv4-translated' };
  }
  if (g[0] === 0x64 && g[1] === 0xff9b) {
    if (zero(2, 6)) return { kind: 'ipv4', ipv4: ipv4(g[6], g[7]), via: 'NAT64' };
    if (g[2] === 1) return { kind: 'tunnel', via: 'NAT64 local-use (64:ff9b:1::/48)' };
  }
  if (g[0] === 0x2002) return { kind: 'ipv4', ipv4: ipv4(g[1], g[2]), via: '6to4' };
  if (g[0] === 0x2001 && g[1] === 0) return { kind: 'tunnel', via: 'Teredo (2001::/32)' };
  return null;
}

/** The eight 16-bit groups of an IPv6 address (brackets and a zone dropped); null if not one. */
export function ipv6Groups(address: string): number[] | null {
  const bare = address
    .replace(/^\[|\]$/g, '')
    .replace(/%.*$/, '')
    .toLowerCase();
  if (isIP(bare) !== 6) return null;
  // A dotted quad at the end stands for the last two groups.
  const hex = bare.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a, b, c, d) =>
    [((Number(a) << 8) | Number(b)).toString(16), ((Number(c) << 8) | Number(d)).toString(16)].join(
      ':',
    ),
  );
  const [left, right] = hex.split('::');
  const head = left ? left.split(':') : [];
  const tail = right ? right.split(':') : [];
  const groups =
    right === undefined
      ? head
      : [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  return groups.map((group) => parseInt(group, 16));
}

import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { TrustProxy } from './app-config';
import { parseCidr } from './cidr';

/**
 * Whether a peer address is one of the proxies TRUST_PROXY names by address (a hop count names
 * none): what the per-address connection cap leaves out.
 */
export function trustedProxyMatcher(trustProxy: TrustProxy): (address: string) => boolean {
  const list = proxyBlockList(trustProxy);
  return (address) => isExempt(list, address);
}

function proxyBlockList(trustProxy: TrustProxy): BlockList | null {
  if (!Array.isArray(trustProxy)) return null;
  const list = new BlockList();
  for (const entry of trustProxy as readonly string[]) {
    if (entry === 'loopback') {
      list.addSubnet('127.0.0.0', 8, 'ipv4');
      list.addAddress('::1', 'ipv6');
    } else if (entry === 'linklocal') {
      list.addSubnet('169.254.0.0', 16, 'ipv4');
      list.addSubnet('fe80::', 10, 'ipv6');
    } else if (entry === 'uniquelocal') {
      list.addSubnet('10.0.0.0', 8, 'ipv4');
      list.addSubnet('172.16.0.0', 12, 'ipv4');
      list.addSubnet('192.168.0.0', 16, 'ipv4');
      list.addSubnet('fc00::', 7, 'ipv6');
    } else {
      const cidr = parseCidr(entry);
      if (cidr) list.addSubnet(cidr.network, cidr.prefix, cidr.family);
    }
  }
  return list;
}

function isExempt(list: BlockList | null, address: string): boolean {
  if (list === null) return false;
  // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIPv4(v4)) return list.check(v4, 'ipv4');
  return isIPv6(address) && list.check(address, 'ipv6');
}

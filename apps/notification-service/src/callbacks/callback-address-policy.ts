import { BlockList, isIP } from 'node:net';
import { parseCidr } from '../config/cidr';

/**
 * Where status callbacks may go. A callback URL is the caller's to choose, so without this the
 * service POSTs wherever it is told: the sandbox's admin routes on loopback, cloud metadata on
 * 169.254.169.254, or any port, with the delivery outcome telling what answered (a port scan).
 *
 * The check is made on the address actually connected to (see CallbackHttpClient: the resolver
 * result is checked inside the socket's lookup), so a name that resolves to a good address when
 * checked and a bad one when connecting (DNS rebinding) gets nowhere.
 */
export interface CallbackAddressSettings {
  /** Loopback (127.0.0.0/8, ::1) only for local development and tests. */
  allowLoopback: boolean;
  /** When not empty, only these: host names (exact, or `.example.com` for a domain) or CIDRs. */
  allowedHosts: readonly string[];
  /** Extra CIDRs refused on top of the built-in ones. */
  deniedCidrs: readonly string[];
}

/** Never a receiver: unspecified, link-local (and cloud metadata in it), multicast, reserved. */
const ALWAYS_DENIED: readonly string[] = [
  '0.0.0.0/8',
  '169.254.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '100.100.100.200/32', // Alibaba Cloud metadata
  '::/128',
  'fe80::/10',
  'ff00::/8',
  'fd00:ec2::254/128', // AWS metadata over IPv6
];
const LOOPBACK: readonly string[] = ['127.0.0.0/8', '::1/128'];

export class CallbackAddressPolicy {
  private readonly denied = new BlockList();
  private readonly loopback = new BlockList();
  private readonly allowedCidrs = new BlockList();
  private readonly allowedNames: readonly string[];
  private readonly hasAllowList: boolean;

  constructor(private readonly settings: CallbackAddressSettings) {
    for (const cidr of [...ALWAYS_DENIED, ...settings.deniedCidrs]) addCidr(this.denied, cidr);
    for (const cidr of LOOPBACK) addCidr(this.loopback, cidr);
    const names: string[] = [];
    for (const entry of settings.allowedHosts) {
      if (parseCidr(entry)) addCidr(this.allowedCidrs, entry);
      else names.push(entry.toLowerCase());
    }
    this.allowedNames = names;
    this.hasAllowList = settings.allowedHosts.length > 0;
  }

  /**
   * Why a connection to `address` (an IP, as resolved) for a URL naming `host` is refused, or
   * null when it may go ahead.
   */
  refusal(host: string, address: string): string | null {
    const ip = unmapIpv4(address);
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (isIP(ip) === 0) return `not an IP address: ${address}`;
    if (this.loopback.check(ip, family)) {
      return this.settings.allowLoopback
        ? null
        : `refused: ${describe(host, address)} is a loopback address`;
    }
    if (this.denied.check(ip, family)) {
      return `refused: ${describe(host, address)} is in a range callbacks may not reach (link-local, metadata, unspecified, multicast or denied)`;
    }
    if (this.hasAllowList && !this.allows(host, ip, family)) {
      return `refused: ${host} is not in CALLBACK_ALLOWED_HOSTS`;
    }
    return null;
  }

  private allows(host: string, ip: string, family: 'ipv4' | 'ipv6'): boolean {
    const name = host.toLowerCase();
    const byName = this.allowedNames.some((allowed) =>
      allowed.startsWith('.') ? name.endsWith(allowed) : name === allowed,
    );
    return byName || this.allowedCidrs.check(ip, family);
  }
}

function describe(host: string, address: string): string {
  return host === address ? address : `${host} (${address})`;
}

/** `::ffff:127.0.0.1` and `::ffff:7f00:1` are 127.0.0.1: checked as the IPv4 they carry. */
export function unmapIpv4(address: string): string {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (dotted) return dotted[1];
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(bare);
  if (hex) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return [high >> 8, high & 255, low >> 8, low & 255].join('.');
  }
  return bare;
}

function addCidr(list: BlockList, entry: string): void {
  const cidr = parseCidr(entry);
  if (!cidr) throw new Error(`not a CIDR: ${entry}`);
  list.addSubnet(cidr.network, cidr.prefix, cidr.family);
}

import { BlockList, isIP } from 'node:net';
import { parseCidr } from '../config/cidr';
import { readIpv6 } from './embedded-ipv4';

/**
 * Where status callbacks may go. A callback URL is the caller's to choose, so without this the
 * service POSTs wherever it is told: the sandbox's admin routes on loopback, cloud metadata on
 * 169.254.169.254, or any port, with the delivery outcome telling what answered (a port scan).
 *
 * The check is made on the address actually connected to (see CallbackHttpClient: the resolver
 * result is checked inside the socket's lookup), so a name that resolves to a good address when
 * checked and a bad one when connecting (DNS rebinding) gets nowhere. An IPv6 address that carries
 * an IPv4 one (mapped, IPv4-compatible, NAT64, 6to4) is judged as the IPv4 address it reaches;
 * tunnels whose IPv4 end cannot be read from the address (Teredo, NAT64 local-use) are refused.
 */
export interface CallbackAddressSettings {
  /** Loopback (127.0.0.0/8, ::1) only for local development and tests. */
  allowLoopback: boolean;
  /** When not empty, only these: host names (exact, or `.example.com` for a domain) or CIDRs. */
  allowedHosts: readonly string[];
  /** Extra CIDRs refused on top of the built-in ones. */
  deniedCidrs: readonly string[];
}

/**
 * Never a receiver: unspecified, link-local (and cloud metadata in it), multicast, reserved, and
 * IPv6's unique-local and site-local ranges (internal-only by definition; AWS metadata over IPv6,
 * fd00:ec2::254, is in fc00::/7).
 */
const ALWAYS_DENIED: readonly string[] = [
  '0.0.0.0/8',
  '169.254.0.0/16',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '100.100.100.200/32', // Alibaba Cloud metadata
  '::/128',
  'fe80::/10',
  'fec0::/10',
  'fc00::/7',
  'ff00::/8',
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
    const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    if (isIP(bare) === 0) return `not an IP address: ${address}`;
    const where = describe(host, address);
    const reading = readIpv6(bare);
    if (reading?.kind === 'tunnel') {
      return `refused: ${where} is a ${reading.via} tunnel address, whose IPv4 end cannot be checked`;
    }
    const ip = reading?.kind === 'ipv4' ? reading.ipv4 : bare.toLowerCase();
    const carried = reading?.kind === 'ipv4' ? ` (${reading.via}, reaching ${reading.ipv4})` : '';
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (this.loopback.check(ip, family)) {
      return this.settings.allowLoopback
        ? null
        : `refused: ${where}${carried} is a loopback address`;
    }
    if (this.denied.check(ip, family)) {
      return `refused: ${where}${carried} is in a range callbacks may not reach (link-local, unique-local, metadata, unspecified, multicast or denied)`;
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

function addCidr(list: BlockList, entry: string): void {
  const cidr = parseCidr(entry);
  if (!cidr) throw new Error(`not a CIDR: ${entry}`);
  list.addSubnet(cidr.network, cidr.prefix, cidr.family);
}

import { CallbackAddressPolicy } from './callback-address-policy';
import { ipv6Groups, readIpv6 } from './embedded-ipv4';

const strict = new CallbackAddressPolicy({
  allowLoopback: false,
  allowedHosts: [],
  deniedCidrs: [],
});

describe(CallbackAddressPolicy.name, () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0.0.0.0', 'range'],
    ['::', 'range'],
    ['169.254.169.254', 'range'],
    ['169.254.1.1', 'range'],
    ['::ffff:169.254.169.254', 'range'],
    ['fe80::1', 'range'],
    ['fd00:ec2::254', 'range'],
    ['224.0.0.1', 'range'],
    ['ff02::1', 'range'],
    ['255.255.255.255', 'range'],
  ])('refuses %s (%s)', (address, kind) => {
    expect(strict.refusal(address, address)).toContain(kind === 'loopback' ? 'loopback' : 'range');
  });

  it.each(['93.184.216.34', '10.1.2.3', '192.168.0.10', '2606:4700::1111'])(
    'allows %s',
    (address) => {
      expect(strict.refusal('receiver.example', address)).toBeNull();
    },
  );

  it('allows loopback only when told to, still refusing metadata', () => {
    const dev = new CallbackAddressPolicy({
      allowLoopback: true,
      allowedHosts: [],
      deniedCidrs: [],
    });
    expect(dev.refusal('localhost', '127.0.0.1')).toBeNull();
    expect(dev.refusal('::1', '::1')).toBeNull();
    expect(dev.refusal('169.254.169.254', '169.254.169.254')).not.toBeNull();
  });

  it('names the host and the address it resolved to', () => {
    expect(strict.refusal('rebind.example', '127.0.0.1')).toBe(
      'refused: rebind.example (127.0.0.1) is a loopback address',
    );
  });

  it('applies an allow list of names, domains and CIDRs, and an extra deny list', () => {
    const policy = new CallbackAddressPolicy({
      allowLoopback: false,
      allowedHosts: ['hooks.acme.test', '.partner.test', '203.0.113.0/24'],
      deniedCidrs: ['10.0.0.0/8'],
    });
    expect(policy.refusal('hooks.acme.test', '93.184.216.34')).toBeNull();
    expect(policy.refusal('a.b.partner.test', '93.184.216.34')).toBeNull();
    expect(policy.refusal('other.test', '203.0.113.7')).toBeNull();
    expect(policy.refusal('other.test', '93.184.216.34')).toContain('CALLBACK_ALLOWED_HOSTS');
    expect(policy.refusal('hooks.acme.test', '10.0.0.5')).toContain('range');
  });

  // Every way an IPv6 address can lead to an IPv4 host we refuse, hex and dotted, any case,
  // bracketed as in a URL: the URL parser writes ::127.0.0.1 as [::7f00:1].
  it.each([
    ['[::7f00:1]', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['0:0:0:0:0:0:7f00:1', 'loopback'],
    ['::a9fe:a9fe', 'range'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::FFFF:127.0.0.1]', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['::ffff:0:7f00:1', 'loopback'],
    ['::ffff:0:169.254.169.254', 'range'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['[64:ff9b::127.0.0.1]', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'range'],
    ['64:ff9b::0:0', 'range'],
    ['2002:7f00:1::', 'loopback'],
    ['[2002:7f00:1::]', 'loopback'],
    ['2002:a9fe:a9fe::1', 'range'],
    ['2002:7f00:0001:abcd::42', 'loopback'],
    ['fc00::1', 'range'],
    ['fd12:3456:789a::1', 'range'],
    ['FDFF:FFFF::1', 'range'],
    ['fd00:ec2::254', 'range'],
    ['fec0::1', 'range'],
    ['fe80::1%eth0', 'range'],
  ])('refuses %s, an IPv6 form of a %s address', (address, kind) => {
    expect(strict.refusal(address, address)).toContain(kind === 'loopback' ? 'loopback' : 'range');
  });

  it.each(['2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001::1', '64:ff9b:1::a00:1'])(
    'refuses the tunnel address %s, whose IPv4 end cannot be checked',
    (address) => {
      expect(strict.refusal(address, address)).toContain('tunnel');
    },
  );

  it('judges the IPv4 address a NAT64 or 6to4 address reaches, like that address itself', () => {
    // 93.184.216.34 behind DNS64/NAT64 and 6to4: reachable as the plain address is.
    expect(strict.refusal('receiver.example', '64:ff9b::5db8:d822')).toBeNull();
    expect(strict.refusal('receiver.example', '2002:5db8:d822::1')).toBeNull();
    const denying = new CallbackAddressPolicy({
      allowLoopback: false,
      allowedHosts: [],
      deniedCidrs: ['10.0.0.0/8'],
    });
    expect(denying.refusal('[64:ff9b::a00:1]', '[64:ff9b::a00:1]')).toBe(
      'refused: [64:ff9b::a00:1] (NAT64, reaching 10.0.0.1) is in a range callbacks may not reach (link-local, unique-local, metadata, unspecified, multicast or denied)',
    );
    expect(denying.refusal('::ffff:10.1.1.1', '::ffff:10.1.1.1')).toContain('range');
    expect(strict.refusal('[64:ff9b::a00:1]', '[64:ff9b::a00:1]')).toBeNull();
    // Loopback allowed for development: its IPv6 wrappings too, metadata still not.
    const dev = new CallbackAddressPolicy({
      allowLoopback: true,
      allowedHosts: [],
      deniedCidrs: [],
    });
    expect(dev.refusal('h', '64:ff9b::7f00:1')).toBeNull();
    expect(dev.refusal('h', '64:ff9b::a9fe:a9fe')).not.toBeNull();
  });

  it('keeps IPv6 loopback and unspecified as themselves, not as 0.0.0.1', () => {
    expect(strict.refusal('::1', '::1')).toContain('loopback');
    expect(strict.refusal('::', '::')).toContain('range');
    expect(readIpv6('::1')).toBeNull();
    expect(readIpv6('::')).toBeNull();
    expect(readIpv6('2606:4700::1111')).toBeNull();
  });

  it('applies an allow list of CIDRs to the IPv4 address carried', () => {
    const policy = new CallbackAddressPolicy({
      allowLoopback: false,
      allowedHosts: ['203.0.113.0/24'],
      deniedCidrs: [],
    });
    expect(policy.refusal('x', '64:ff9b::cb00:7107')).toBeNull();
    expect(policy.refusal('x', '64:ff9b::5db8:d822')).toContain('CALLBACK_ALLOWED_HOSTS');
  });
});

describe(ipv6Groups.name, () => {
  it.each([
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['[2002:7f00:1::]', [0x2002, 0x7f00, 1, 0, 0, 0, 0, 0]],
    ['::ffff:10.0.0.1', [0, 0, 0, 0, 0, 0xffff, 0x0a00, 1]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['fe80::1%lo0', [0xfe80, 0, 0, 0, 0, 0, 0, 1]],
  ])('reads %s', (address, groups) => {
    expect(ipv6Groups(address)).toEqual(groups);
  });

  it('is null for anything that is not an IPv6 address', () => {
    expect(ipv6Groups('127.0.0.1')).toBeNull();
    expect(ipv6Groups('example.com')).toBeNull();
    expect(ipv6Groups('1::2::3')).toBeNull();
  });
});

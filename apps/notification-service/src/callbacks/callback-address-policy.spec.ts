import { CallbackAddressPolicy, unmapIpv4 } from './callback-address-policy';

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

  it('reads IPv4-mapped IPv6 addresses as the IPv4 they carry', () => {
    expect(unmapIpv4('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(unmapIpv4('[::FFFF:a9fe:a9fe]')).toBe('169.254.169.254');
    expect(unmapIpv4('2001:db8::1')).toBe('2001:db8::1');
  });
});

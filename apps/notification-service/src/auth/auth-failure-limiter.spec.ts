import { addressUnit } from './auth-failure-limiter';

describe(addressUnit.name, () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('counts %s as %s', (address, unit) => {
    expect(addressUnit(address)).toBe(unit);
  });

  it('counts every address of one /64 as one client (a host picks any of them at will)', () => {
    const units = new Set(
      Array.from({ length: 50 }, (_, i) => addressUnit(`2001:db8:aa:bb:${i.toString(16)}::${i}`)),
    );
    expect([...units]).toEqual(['2001:db8:aa:bb::/64']);
  });
});

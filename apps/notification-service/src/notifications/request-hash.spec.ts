import { canonicalJson, requestHash } from './request-hash';

describe(requestHash.name, () => {
  it('is the same whatever the key order, at any depth', () => {
    expect(requestHash({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(
      requestHash({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }),
    );
  });

  it('differs when a value, an array order or a key differs', () => {
    const base = requestHash({ to: ['+1', '+2'], template: 't' });
    expect(requestHash({ to: ['+2', '+1'], template: 't' })).not.toBe(base);
    expect(requestHash({ to: ['+1', '+2'], template: 'u' })).not.toBe(base);
    expect(requestHash({ to: ['+1', '+2'], template: 't', priority: 'high' })).not.toBe(base);
  });

  it('ignores undefined fields, as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });
});

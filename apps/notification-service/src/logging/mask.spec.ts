import { maskPhone, maskPhonesIn } from './mask';

describe(maskPhone.name, () => {
  it('keeps the country and area prefix and the last two digits', () => {
    expect(maskPhone('+14155550100')).toBe('+1415*****00');
  });
});

describe(maskPhonesIn.name, () => {
  it('masks every number inside free text and nothing else', () => {
    expect(maskPhonesIn('to +14155550100 and +447700123456, order 1234567')).toBe(
      'to +1415*****00 and +4477******56, order 1234567',
    );
  });
});

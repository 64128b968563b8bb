import { checkRecipients } from './recipients';

describe(checkRecipients.name, () => {
  it('keeps one of each valid number, in the caller’s order', () => {
    expect(checkRecipients(['+14155550101', '+14155550100', '+14155550101'])).toEqual({
      recipients: ['+14155550101', '+14155550100'],
      invalid: [],
    });
  });

  it('accepts a single number', () => {
    expect(checkRecipients('+14155550100').recipients).toEqual(['+14155550100']);
  });

  it('lists every invalid entry once, as given', () => {
    expect(
      checkRecipients(['12345', '+1 415 555 0100', '+14155550100', '12345', 'abc']).invalid,
    ).toEqual(['12345', '+1 415 555 0100', 'abc']);
  });
});

import { isKnownTimezone, recipientTimezone } from './recipient-timezone';

const FALLBACK = 'America/Chicago';

describe(isKnownTimezone.name, () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe'])(
    'knows %s',
    (name) => {
      expect(isKnownTimezone(name)).toBe(true);
    },
  );

  it.each(['Mars/Base', 'Europe/Atlantis', '', '+05:00', 'Berlin', `Europe/${'x'.repeat(100)}`])(
    'does not know "%s"',
    (name) => {
      expect(isKnownTimezone(name)).toBe(false);
    },
  );
});

describe(recipientTimezone.name, () => {
  it("takes the request's zone when it names one, whatever the number's country", () => {
    expect(recipientTimezone('+4915112345678', 'Asia/Tokyo', FALLBACK)).toBe('Asia/Tokyo');
  });

  it("keeps the request's zone as the IANA database spells it, whatever its case", () => {
    expect(recipientTimezone('+14155550100', 'america/new_york', FALLBACK)).toBe(
      'America/New_York',
    );
  });

  it.each([
    ['DE', '+4915112345678', 'Europe/Berlin'],
    ['FR', '+33612345678', 'Europe/Paris'],
    ['NP', '+9779841234567', 'Asia/Kathmandu'],
    ['GB', '+442079460958', 'Europe/London'],
    ['JP', '+819012345678', 'Asia/Tokyo'],
  ])('uses the zone of a country that keeps one time (%s)', (_country, to, zone) => {
    expect(recipientTimezone(to, undefined, FALLBACK)).toBe(zone);
    expect(recipientTimezone(to, null, FALLBACK)).toBe(zone);
  });

  it.each([
    ['US', '+14155550100'],
    ['AU', '+61412345678'],
    ['ES (the Canaries keep another time)', '+34612345678'],
    ['an international +882 number', '+88234567890'],
    ['a number of no country', '+999123456'],
  ])('falls back for %s', (_what, to) => {
    expect(recipientTimezone(to, undefined, FALLBACK)).toBe(FALLBACK);
  });

  it('answers the same again from its memory of the country', () => {
    expect(recipientTimezone('+4930123456', undefined, FALLBACK)).toBe('Europe/Berlin');
    expect(recipientTimezone('+4915112345678', undefined, 'UTC')).toBe('Europe/Berlin');
  });
});

import { getCountry, getTimezone } from 'countries-and-timezones';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { IANAZone } from 'luxon';

/** Longer than any IANA name (the longest is about 32): bounds the work a request's text can cause. */
const MAX_ZONE_NAME_LENGTH = 64;

/** An IANA time zone name the runtime knows (Europe/Berlin, UTC; not Mars/Base, not +05:00). */
export function isKnownTimezone(name: string): boolean {
  return zoneNamed(name) !== null;
}

/**
 * Names already looked up, as written, with the runtime's spelling (null: no zone). Asking Intl
 * builds a formatter each time (a tenth of intake's CPU in the benchmark when every request named
 * a zone); the answer never changes. Bounded: the names a caller can write are endless (every
 * mix of letter case), so the memory starts over when full.
 */
const zoneNames = new Map<string, string | null>();
const MAX_REMEMBERED_NAMES = 4096;

function zoneNamed(name: string): string | null {
  let zone = zoneNames.get(name);
  if (zone === undefined) {
    const valid =
      name.length > 0 && name.length <= MAX_ZONE_NAME_LENGTH && IANAZone.isValidZone(name);
    zone = valid ? canonicalName(name) : null;
    if (zoneNames.size >= MAX_REMEMBERED_NAMES) zoneNames.clear();
    zoneNames.set(name, zone);
  }
  return zone;
}

/**
 * The zone whose wall clock decides a recipient's quiet hours: the one the request names, else the
 * number's country's when the whole country keeps one time, else `fallback`.
 */
export function recipientTimezone(
  to: string,
  requested: string | undefined | null,
  fallback: string,
): string {
  if (requested) return zoneNamed(requested) ?? requested;
  const country = parsePhoneNumberFromString(to)?.country;
  return (country && zoneOfCountry(country)) ?? fallback;
}

/**
 * The zone's name as the runtime spells it (`europe/berlin` → `Europe/Berlin`): zone names are
 * matched without regard to case, and the stored one should read as the IANA database writes it.
 */
function canonicalName(zone: string): string {
  return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
}

const zoneByCountry = new Map<string, string | null>();

function zoneOfCountry(country: string): string | null {
  let zone = zoneByCountry.get(country);
  if (zone === undefined) {
    zone = soleZone(country);
    zoneByCountry.set(country, zone);
  }
  return zone;
}

/**
 * The country's one zone, or null when its parts keep different times. The package's current
 * (non-deprecated) zones still name several for countries that keep one time in practice: Germany
 * lists Europe/Zurich next to Europe/Berlin (for Büsingen). Quiet hours only read the wall clock,
 * so zones that show the same UTC offset at every instant of the coming two years count as one, and
 * the one named is the zone whose main country this is (Europe/Berlin for DE, not Europe/Zurich).
 * Countries with really different clocks (US, AU, ES with the Canaries) get the fallback.
 */
function soleZone(country: string): string | null {
  const zones = getCountry(country)?.timezones.filter((name) => IANAZone.isValidZone(name)) ?? [];
  if (zones.length === 0) return null;
  const from = Date.now();
  const [first, ...rest] = zones;
  if (!rest.every((other) => sameClock(first, other, from))) return null;
  return zones.find((name) => getTimezone(name)?.countries[0] === country) ?? first;
}

const SAMPLE_DAYS = 2 * 366;
const DAY_MS = 86_400_000;
const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * Whether two zones show the same offset from `from` on for two years. Daily samples catch a
 * different offset or a change on a different day; on the days they change, samples every quarter
 * hour catch a change at a different hour of the same day.
 */
function sameClock(a: string, b: string, from: number): boolean {
  const za = IANAZone.create(a);
  const zb = IANAZone.create(b);
  let previous = za.offset(from);
  for (let day = 0; day < SAMPLE_DAYS; day++) {
    const ts = from + day * DAY_MS;
    const offset = za.offset(ts);
    if (offset !== zb.offset(ts)) return false;
    if (offset !== previous) {
      for (let t = ts - DAY_MS; t < ts; t += QUARTER_HOUR_MS) {
        if (za.offset(t) !== zb.offset(t)) return false;
      }
    }
    previous = offset;
  }
  return true;
}

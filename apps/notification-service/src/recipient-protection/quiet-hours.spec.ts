import fc from 'fast-check';
import type { QuietHours } from '../config/app-config';
import { isInQuietHours, quietUntil } from './quiet-hours';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const NIGHT: QuietHours = { startMinute: 21 * 60, endMinute: 8 * 60 };

const at = (iso: string): Date => new Date(iso);
const windowOf = (start: string, end: string): QuietHours => ({
  startMinute: minuteOf(start),
  endMinute: minuteOf(end),
});
function minuteOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

describe(quietUntil.name, () => {
  it('is null up to the last second before the window and the next 08:00 from 21:00 on', () => {
    // Europe/Berlin in June is UTC+2.
    expect(quietUntil(at('2026-06-10T18:59:59.999Z'), NIGHT, 'Europe/Berlin')).toBeNull();
    expect(quietUntil(at('2026-06-10T19:00:00Z'), NIGHT, 'Europe/Berlin')).toEqual(
      at('2026-06-11T06:00:00Z'),
    );
    expect(quietUntil(at('2026-06-11T05:59:59Z'), NIGHT, 'Europe/Berlin')).toEqual(
      at('2026-06-11T06:00:00Z'),
    );
    expect(quietUntil(at('2026-06-11T06:00:00Z'), NIGHT, 'Europe/Berlin')).toBeNull();
  });

  it('ends a window whose end the clocks skip (Berlin, 02:30 on the spring-forward night) at the jump', () => {
    // 2026-03-29 02:00 CET becomes 03:00 CEST at 01:00Z; 02:30 does not exist that night.
    const until = quietUntil(
      at('2026-03-28T22:00:00Z'),
      windowOf('21:00', '02:30'),
      'Europe/Berlin',
    );
    expect(until).toEqual(at('2026-03-29T01:00:00Z'));
  });

  it('ends a window whose end happens twice (New York, 01:30 on the fall-back night) at the first one', () => {
    // 2026-11-01 02:00 EDT becomes 01:00 EST at 06:00Z; 01:30 is 05:30Z and again 06:30Z.
    const lateNight = windowOf('21:00', '01:30');
    expect(quietUntil(at('2026-11-01T02:00:00Z'), lateNight, 'America/New_York')).toEqual(
      at('2026-11-01T05:30:00Z'),
    );
    // Back in the window after the clocks went back: the second 01:30 is the first one ahead.
    expect(quietUntil(at('2026-11-01T06:10:00Z'), lateNight, 'America/New_York')).toEqual(
      at('2026-11-01T06:30:00Z'),
    );
  });

  it('leaves the window when the clocks go back to before its start', () => {
    // 01:30 EDT is inside 01:15-03:00; at 06:00Z the clock reads 01:00 EST, before 01:15.
    expect(
      quietUntil(at('2026-11-01T05:30:00Z'), windowOf('01:15', '03:00'), 'America/New_York'),
    ).toEqual(at('2026-11-01T06:00:00Z'));
  });

  it("follows Lord Howe's half-hour changes", () => {
    // 2026-10-04 02:00 (+10:30) becomes 02:30 (+11:00) at 2026-10-03T15:30Z: 02:15 is skipped.
    expect(
      quietUntil(at('2026-10-03T12:00:00Z'), windowOf('21:00', '02:15'), 'Australia/Lord_Howe'),
    ).toEqual(at('2026-10-03T15:30:00Z'));
    // 2026-04-05 02:00 (+11:00) becomes 01:30 (+10:30) at 2026-04-04T15:00Z: 01:45 happens twice.
    expect(
      quietUntil(at('2026-04-04T12:00:00Z'), windowOf('21:00', '01:45'), 'Australia/Lord_Howe'),
    ).toEqual(at('2026-04-04T14:45:00Z'));
    expect(
      quietUntil(at('2026-04-04T15:00:00Z'), windowOf('21:00', '01:45'), 'Australia/Lord_Howe'),
    ).toEqual(at('2026-04-04T15:15:00Z'));
  });

  it('uses the quarter-hour offset of Kathmandu (+05:45)', () => {
    expect(quietUntil(at('2026-06-01T15:14:59Z'), NIGHT, 'Asia/Kathmandu')).toBeNull();
    expect(quietUntil(at('2026-06-01T15:15:00Z'), NIGHT, 'Asia/Kathmandu')).toEqual(
      at('2026-06-02T02:15:00Z'),
    );
  });

  it('handles a window that does not wrap past midnight', () => {
    const lunch = windowOf('12:00', '13:30');
    expect(quietUntil(at('2026-01-15T11:59:00Z'), lunch, 'UTC')).toBeNull();
    expect(quietUntil(at('2026-01-15T12:45:00Z'), lunch, 'UTC')).toEqual(
      at('2026-01-15T13:30:00Z'),
    );
    expect(quietUntil(at('2026-01-15T13:30:00Z'), lunch, 'UTC')).toBeNull();
  });

  it('refuses a zone it does not know', () => {
    expect(() => quietUntil(at('2026-01-15T12:00:00Z'), NIGHT, 'Mars/Base')).toThrow(/Mars\/Base/);
  });
});

describe(isInQuietHours.name, () => {
  it('counts seconds: 07:59:59 is inside 21:00-08:00, 08:00:00 is not', () => {
    expect(isInQuietHours(at('2026-01-15T07:59:59Z'), NIGHT, 'UTC')).toBe(true);
    expect(isInQuietHours(at('2026-01-15T08:00:00Z'), NIGHT, 'UTC')).toBe(false);
    expect(isInQuietHours(at('2026-01-15T21:00:00Z'), NIGHT, 'UTC')).toBe(true);
  });
});

// --- Properties -------------------------------------------------------------------------------

const ZONES = [
  'America/New_York',
  'Europe/Berlin',
  'Australia/Lord_Howe', // 30-minute DST
  'Asia/Kathmandu', // +05:45
  'UTC',
  'Asia/Tokyo',
  'America/Santiago', // changes at local midnight
  'Pacific/Chatham', // +12:45 / +13:45
  'Europe/London',
] as const;

const FROM = Date.UTC(2026, 0, 1);
const TO = Date.UTC(2029, 0, 1);

/** The wall clock of `ts` in `zone` read straight from Intl, independent of the code under test. */
const formats = new Map<string, Intl.DateTimeFormat>();
function localMinuteOfDay(ts: number, zone: string): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, format);
  }
  const part = (type: string): number =>
    Number(format.formatToParts(ts).find((p) => p.type === type)?.value);
  const millis = ((ts % 1000) + 1000) % 1000;
  return part('hour') * 60 + part('minute') + (part('second') * 1000 + millis) / MINUTE_MS;
}

function oracleInside(ts: number, w: QuietHours, zone: string): boolean {
  const t = localMinuteOfDay(ts, zone);
  return w.startMinute < w.endMinute
    ? w.startMinute <= t && t < w.endMinute
    : t >= w.startMinute || t < w.endMinute;
}

function offsetMinutes(ts: number, zone: string): number {
  const t = localMinuteOfDay(ts, zone);
  const utc = (((ts % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS;
  return Math.round((((t - utc) % 1440) + 1440 + 720) % 1440) - 720;
}

// The scan reaches a few days past 2026–2028 so that every way out found is covered.
const SCAN_FROM = FROM - 3 * DAY_MS;
const SCAN_TO = TO + 3 * DAY_MS;

/** Every instant where the zone's offset changes, to the minute (daily scan, then bisection). */
function transitions(zone: string): number[] {
  const found: number[] = [];
  for (let day = SCAN_FROM; day < SCAN_TO; day += DAY_MS) {
    const before = offsetMinutes(day, zone);
    if (offsetMinutes(day + DAY_MS, zone) === before) continue;
    let lo = day;
    let hi = day + DAY_MS;
    while (hi - lo > MINUTE_MS) {
      const mid = lo + Math.floor((hi - lo) / (2 * MINUTE_MS)) * MINUTE_MS;
      if (offsetMinutes(mid, zone) === before) lo = mid;
      else hi = mid;
    }
    found.push(hi);
  }
  return found;
}

const TRANSITIONS = new Map<string, number[]>(ZONES.map((zone) => [zone, transitions(zone)]));

/**
 * The offset (minutes) in force from each change on, read from Intl once: the minute-by-minute
 * oracle looks offsets up here, since asking Intl 1,500 times per case would take too long.
 */
const OFFSETS = new Map(
  ZONES.map((zone) => [
    zone,
    [
      { from: -Infinity, offset: offsetMinutes(SCAN_FROM, zone) },
      ...(TRANSITIONS.get(zone) ?? []).map((from) => ({ from, offset: offsetMinutes(from, zone) })),
    ],
  ]),
);

function tabledOffsetMs(ts: number, zone: string): number {
  const table = OFFSETS.get(zone as (typeof ZONES)[number]) ?? [];
  let offset = NaN;
  for (const entry of table) if (entry.from <= ts) offset = entry.offset;
  return offset * MINUTE_MS;
}

function tabledInside(ts: number, w: QuietHours, zone: string): boolean {
  const t = ((((ts + tabledOffsetMs(ts, zone)) % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS;
  return w.startMinute < w.endMinute
    ? w.startMinute <= t && t < w.endMinute
    : t >= w.startMinute || t < w.endMinute;
}

/** Windows that end or start where clocks jump (00:00, 01:00-03:45) show up often. */
const edgeMinute = fc.oneof(
  fc.integer({ min: 0, max: 1439 }),
  fc.constantFrom(0, 30, 60, 90, 105, 120, 135, 150, 165, 180, 210, 225, 1380, 1410, 1439),
);
const windowArb: fc.Arbitrary<QuietHours> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(NIGHT) },
  {
    weight: 4,
    arbitrary: fc
      .record({ startMinute: edgeMinute, endMinute: edgeMinute })
      .filter((w) => w.startMinute !== w.endMinute),
  },
);

const uniformInstant = fc.integer({ min: FROM, max: TO - 1 });
function nearTransition(zone: string): fc.Arbitrary<number> {
  const changes = TRANSITIONS.get(zone) ?? [];
  if (changes.length === 0) return uniformInstant;
  return fc
    .record({
      change: fc.constantFrom(...changes),
      delta: fc.integer({ min: -2 * DAY_MS, max: 2 * DAY_MS }),
    })
    .map(({ change, delta }) => change + delta);
}
/** Whole minutes (window edges land on them in every zone here) and a hair before them, often. */
const snap = fc.constantFrom<(ts: number) => number>(
  (ts) => ts,
  (ts) => ts - (ts % MINUTE_MS),
  (ts) => ts - (ts % MINUTE_MS) - 1,
  (ts) => ts - (ts % MINUTE_MS) - 1000,
);

const caseArb = fc.constantFrom(...ZONES).chain((zone) =>
  fc.record({
    zone: fc.constant(zone),
    window: windowArb,
    at: fc
      .tuple(
        fc.oneof(
          { weight: 3, arbitrary: nearTransition(zone) },
          { weight: 1, arbitrary: uniformInstant },
        ),
        snap,
      )
      .map(([ts, align]) => align(ts)),
  }),
);

const NUM_RUNS = 5000;
/** Fixed seeds, so a run can be cited and repeated; fast-check prints the seed of a failure too. */
const SEEDS = {
  nullWhenOutside: 190_001,
  notBefore: 190_002,
  outside: 190_003,
  earliest: 190_004,
  withinADay: 190_005,
  table: 190_006,
} as const;

function check(
  seed: number,
  predicate: (c: { zone: string; window: QuietHours; at: number }) => boolean,
): void {
  fc.assert(fc.property(caseArb, predicate), { seed, numRuns: NUM_RUNS });
}

describe(`${quietUntil.name} properties (${NUM_RUNS} runs each; zones ${ZONES.join(', ')})`, () => {
  it(`nullWhenOutside: null exactly when the instant is outside the window (seed ${SEEDS.nullWhenOutside})`, () => {
    check(SEEDS.nullWhenOutside, ({ zone, window: w, at: ts }) => {
      const until = quietUntil(new Date(ts), w, zone);
      return (until === null) === !oracleInside(ts, w, zone);
    });
  });

  it(`notBefore: the way out is never before the instant (seed ${SEEDS.notBefore})`, () => {
    check(SEEDS.notBefore, ({ zone, window: w, at: ts }) => {
      const until = quietUntil(new Date(ts), w, zone);
      return until === null || until.getTime() >= ts;
    });
  });

  it(`outside: the way out's wall-clock time is outside the window (seed ${SEEDS.outside})`, () => {
    check(SEEDS.outside, ({ zone, window: w, at: ts }) => {
      const until = quietUntil(new Date(ts), w, zone);
      return until === null || !oracleInside(until.getTime(), w, zone);
    });
  });

  it(`earliest: no instant from the instant up to the way out is outside the window (seed ${SEEDS.earliest})`, () => {
    // The wall clock only reaches a window edge or jumps on a UTC minute boundary in these zones,
    // so checking the instant itself and every minute boundary before the way out is exhaustive.
    // The instant is read from Intl; the minute boundaries from the offsets Intl gave up front.
    check(SEEDS.earliest, ({ zone, window: w, at: ts }) => {
      const until = quietUntil(new Date(ts), w, zone);
      if (until === null) return true;
      if (!oracleInside(ts, w, zone)) return false;
      for (
        let m = ts - (((ts % MINUTE_MS) + MINUTE_MS) % MINUTE_MS) + MINUTE_MS;
        m < until.getTime();
        m += MINUTE_MS
      ) {
        if (!tabledInside(m, w, zone)) return false;
      }
      return true;
    });
  });

  it(`withinADay: the way out is at most 25 hours after the instant, 49 when the clocks skip all of a day's time outside the window (seed ${SEEDS.withinADay})`, () => {
    // A window leaving an hour or less outside it can lose that hour to a spring-forward jump
    // (America/Santiago jumps from 00:00 to 01:00): then the way out is the next day's end.
    const LONGEST_JUMP_MINUTES = 60;
    check(SEEDS.withinADay, ({ zone, window: w, at: ts }) => {
      const until = quietUntil(new Date(ts), w, zone);
      if (until === null || until.getTime() - ts <= 25 * HOUR_MS) return true;
      const outsideMinutes = (w.startMinute - w.endMinute + 1440) % 1440;
      return outsideMinutes <= LONGEST_JUMP_MINUTES && until.getTime() - ts <= 49 * HOUR_MS;
    });
  });

  it('has change instants to aim at in every zone that changes its clocks in 2026–2028', () => {
    for (const zone of [
      'America/New_York',
      'Europe/Berlin',
      'Australia/Lord_Howe',
      'America/Santiago',
      'Pacific/Chatham',
      'Europe/London',
    ]) {
      expect(TRANSITIONS.get(zone)).toHaveLength(6);
    }
    expect(TRANSITIONS.get('Asia/Kathmandu')).toEqual([]);
  });

  it(`the oracle's offset table agrees with Intl at minute boundaries (seed ${SEEDS.table})`, () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.integer({ min: 0, max: 49 * 60 }),
        ({ zone, window: w, at: ts }, minutes) => {
          const m = ts - (((ts % MINUTE_MS) + MINUTE_MS) % MINUTE_MS) + minutes * MINUTE_MS;
          return tabledInside(m, w, zone) === oracleInside(m, w, zone);
        },
      ),
      { seed: SEEDS.table, numRuns: NUM_RUNS },
    );
  });
});

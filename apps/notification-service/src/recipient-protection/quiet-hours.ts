import { IANAZone } from 'luxon';
import type { QuietHours } from '../config/app-config';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * A window is at most 23:59 long on the wall clock and clocks move back by at most a few hours,
 * so the way out is always within a couple of days; more steps than this means a broken zone.
 */
const MAX_SEGMENTS = 16;

/** Whether `at`'s wall-clock time in `zone` (to the millisecond) is inside the window. */
export function isInQuietHours(at: Date, window: QuietHours, zone: string): boolean {
  const tz = zoneNamed(zone);
  return insideAt(at.getTime(), window, offsetMs(tz, at.getTime()));
}

/**
 * When `at` falls in the window in `zone`, the earliest instant from `at` on whose wall-clock
 * time is outside it: normally the window's end. When that end does not exist that day (clocks
 * jump over it) it is the jump itself, and when it exists twice it is the first one still ahead.
 * Clocks going back can also leave the window early (before its start); that instant wins then.
 * Null when `at` is outside the window.
 */
export function quietUntil(at: Date, window: QuietHours, zone: string): Date | null {
  const tz = zoneNamed(zone);
  let cursor = at.getTime();
  let offset = offsetMs(tz, cursor);
  if (!insideAt(cursor, window, offset)) return null;

  // Under one UTC offset the wall clock runs evenly, so the exit is where it next reads the
  // window's end. Unless the offset changes before then: from that change on, start over.
  for (let segment = 0; segment < MAX_SEGMENTS; segment++) {
    const wall = cursor + offset;
    const endWall = wall + mod(window.endMinute * MINUTE_MS - mod(wall, DAY_MS), DAY_MS);
    const end = endWall - offset;
    const change = nextOffsetChange(tz, cursor, end);
    if (change === null) return new Date(end);
    cursor = change;
    offset = offsetMs(tz, cursor);
    if (!insideAt(cursor, window, offset)) return new Date(cursor);
  }
  throw new Error(
    `quiet hours in ${zone}: no way out of the window after ${MAX_SEGMENTS} offset changes`,
  );
}

function zoneNamed(zone: string): IANAZone {
  const tz = IANAZone.create(zone);
  if (!tz.isValid) throw new Error(`quiet hours: unknown time zone "${zone}"`);
  return tz;
}

function offsetMs(tz: IANAZone, ts: number): number {
  return Math.round(tz.offset(ts) * MINUTE_MS);
}

function insideAt(ts: number, window: QuietHours, offset: number): boolean {
  const t = mod(ts + offset, DAY_MS);
  const start = window.startMinute * MINUTE_MS;
  const end = window.endMinute * MINUTE_MS;
  return start < end ? start <= t && t < end : t >= start || t < end;
}

/**
 * The first instant in (from, until] where the offset differs from `offset` (the offset at
 * `from`), or null. Read from the zone's known changes (OffsetChanges) when they cover the span.
 */
function nextOffsetChange(tz: IANAZone, from: number, until: number): number | null {
  // No change between `from` and the first one after it, so that one moves away from `offset`.
  const change = offsetChanges(tz, from, until).changes.find((at) => at > from && at <= until);
  return change ?? null;
}

/**
 * The exact instants a zone's offset changes within a span, found once and kept: reading an
 * offset formats a date through Intl, and probing the next day hour by hour for every message of
 * a request cost a quarter of intake's CPU in the benchmark. One entry per zone asked about (IANA
 * names only, so a few hundred at most), worked out again when a span reaches past it.
 */
interface OffsetChanges {
  from: number;
  until: number;
  changes: number[];
}

const changesByZone = new Map<string, OffsetChanges[]>();
/** How far ahead a zone's changes are read at once: the longest way out of a window and more. */
const LOOKAHEAD_MS = 3 * DAY_MS;
/** Spans kept per zone: now, and a few scheduled times further out. */
const SPANS_PER_ZONE = 8;

function offsetChanges(tz: IANAZone, from: number, until: number): OffsetChanges {
  const spans = changesByZone.get(tz.name) ?? [];
  const known = spans.find((span) => span.from <= from && until <= span.until);
  if (known) return known;
  const span = { from, until: Math.max(until, from + LOOKAHEAD_MS), changes: [] as number[] };
  let before = span.from;
  let offset = offsetMs(tz, before);
  // Probing every hour finds any change (no zone changes its offset twice within an hour, which
  // would be the only way to slip between two probes); a binary search pins each to the
  // millisecond.
  while (before < span.until) {
    const probe = Math.min(before + HOUR_MS, span.until);
    const probed = offsetMs(tz, probe);
    if (probed !== offset) {
      span.changes.push(firstChangeIn(tz, before, probe, offset));
      offset = probed;
    }
    before = probe;
  }
  changesByZone.set(tz.name, [span, ...spans.slice(0, SPANS_PER_ZONE - 1)]);
  return span;
}

/** Offset at `same` is `offset`, at `changed` it is not: the first instant after `same` that differs. */
function firstChangeIn(tz: IANAZone, same: number, changed: number, offset: number): number {
  let lo = same;
  let hi = changed;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (offsetMs(tz, mid) === offset) lo = mid;
    else hi = mid;
  }
  return hi;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

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
    const change = nextOffsetChange(tz, cursor, end, offset);
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
 * The first instant in (from, until] where the offset differs from `offset`, or null. Probing
 * every hour finds any change (no zone changes its offset twice within an hour, which would be
 * the only way to slip between two probes); a binary search then pins it to the millisecond.
 */
function nextOffsetChange(
  tz: IANAZone,
  from: number,
  until: number,
  offset: number,
): number | null {
  let before = from;
  while (before < until) {
    const probe = Math.min(before + HOUR_MS, until);
    if (offsetMs(tz, probe) !== offset) return firstChangeIn(tz, before, probe, offset);
    before = probe;
  }
  return null;
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

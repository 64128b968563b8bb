import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';

// Wall-clock milliseconds with sub-millisecond resolution. performance.now() is fine-grained but
// drifts from the wall clock over hours (NTP slews Date.now(), not the monotonic clock); rate-limit
// windows are aligned to wall-clock seconds, and clients align their own throttles with Date.now(),
// so the reading is re-anchored whenever the two disagree by more than DRIFT_MS.
const DRIFT_MS = 2;

@Injectable()
export class Clock {
  private anchorWall = Date.now();
  private anchorMono = performance.now();
  private last = 0;

  /** Epoch milliseconds, fractional, never decreasing. */
  now(): number {
    const wall = Date.now();
    const mono = performance.now();
    let reading = this.anchorWall + (mono - this.anchorMono);
    if (Math.abs(reading - wall) > DRIFT_MS) {
      this.anchorWall = wall;
      this.anchorMono = mono;
      reading = wall;
    }
    this.last = Math.max(this.last, reading);
    return this.last;
  }
}

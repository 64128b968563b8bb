import { setPriority } from 'node:os';

/**
 * Puts a provider sandbox process ahead of ours in the scheduler. The provider runs on its own
 * machine, where our processes cannot take its CPU; here they share two cores, and a sandbox left
 * waiting for one stamps arrivals tens of milliseconds late. Ahead of our processes, its clock is
 * closer to what a provider would see. Without the privilege (not root), it keeps the default.
 */
export function runProviderAhead(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, -10);
  } catch {
    // EACCES: keep the default priority.
  }
}

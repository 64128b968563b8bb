/*
 * Every Redis key of a stack (Bull's queues, the throttle, pause and lease records) starts with
 * its QUEUE_PREFIX in braces, `{notify}:…`. On a Redis Cluster only the part in the first braces
 * picks the hash slot, so all of a stack's keys share one slot: each Lua script and MULTI of Bull
 * or ours touches one slot, as a cluster requires. On one server the braces are just characters.
 * No imports: the test kit's global teardown loads this file as it is.
 */

/** What every key of the stack with this QUEUE_PREFIX starts with (Bull's `prefix` too). */
export function stackKeyPrefix(queuePrefix: string): string {
  return `{${queuePrefix}}`;
}

/**
 * A SCAN MATCH pattern for every key of the stacks whose QUEUE_PREFIX matches `prefixPattern`
 * (glob syntax: `notify-test-1*` for all of a test run's stacks, or one stack's prefix exactly).
 * QUEUE_PREFIX allows no glob characters, so a prefix stands for itself.
 */
export function stackKeysPattern(prefixPattern: string): string {
  return `${stackKeyPrefix(prefixPattern)}*`;
}

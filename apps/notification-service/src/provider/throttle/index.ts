export {
  type CallPermit,
  DEFAULT_COUNTED_WITHIN_MS,
  DEFAULT_MAX_RESERVE_MS,
  DEFAULT_PROVIDER_LIMIT_TTL_MS,
  DEFAULT_RTT_MARGIN_MS,
  DEFAULT_SAFETY_FACTOR,
  DEFAULT_WIDEN_FOR_MS,
  RedisRateLimiter,
  emissionIntervalMs,
  type RedisRateLimiterOptions,
  type Reservation,
  type ThrottleStats,
  type ThrottleKind,
} from './redis-rate-limiter';
export { maxInSlidingWindow } from './sliding-window';

import { applyDecorators, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '../accounts/api-key.guard';
import { RateLimitGuard } from '../accounts/rate-limit.guard';
import { FaultInjectionGuard } from '../faults/fault-injection.guard';

/**
 * A route of the provider's public API: bearer auth, then the per-key rate limit, then injected
 * faults, in that order (an edge proxy authenticates and throttles before the backend can fail).
 */
export const ProviderEndpoint = () =>
  applyDecorators(UseGuards(ApiKeyGuard, RateLimitGuard, FaultInjectionGuard));

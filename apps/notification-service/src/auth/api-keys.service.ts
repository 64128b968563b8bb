import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { CacheInvalidation } from '../cache/cache-invalidation.service';
import {
  type InvalidatedCache,
  ROW_CACHE_DEFAULTS,
  type RowCaches,
} from '../cache/invalidated-cache';
import { AppConfig } from '../config/app-config';
import { NotFoundError } from '../common/errors/api-error';
import { ApiKeysRepository } from './api-keys.repository';
import type { ApiKeyResponse, CreateApiKeyDto, CreatedApiKeyResponse } from './api-keys.dto';
import type { ApiKey } from './entities/api-key.entity';
import { ADMIN_TEAM, type Principal, SCOPES, type Scope } from './scopes';

/** A revoked key stops working on every instance within this, even with Redis away. */
export const REVOCATION_BOUND_MS = ROW_CACHE_DEFAULTS.deafTtlMs;
/** Keys the cache holds at most, bad ones included (see ROW_CACHE_DEFAULTS). */
export const CACHE_MAX_ENTRIES = ROW_CACHE_DEFAULTS.maxEntries;
const CACHE_TOPIC = 'api-keys';

/** What every key this service makes looks like: `nk_` and 24 random bytes in base64url. */
export const KEY_SHAPE = /^nk_[A-Za-z0-9_-]{32}$/;
/** How much of a key is shown and stored in the clear (its list entry, failure counts). */
export const KEY_PREFIX_LENGTH = 8;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

@Injectable()
export class ApiKeysService {
  /** How many keys the cache holds now (bounded by CACHE_MAX_ENTRIES). */
  get cachedKeys(): number {
    return this.cache.size;
  }

  /** So that a burst of requests doesn't query the key table each time. */
  private readonly cache: InvalidatedCache<Principal | null>;
  private readonly adminKeyHash: Buffer | null;

  constructor(
    private readonly keys: ApiKeysRepository,
    @Inject(CacheInvalidation) private readonly invalidation: RowCaches,
    config: AppConfig,
  ) {
    this.adminKeyHash = config.adminApiKey ? Buffer.from(hashKey(config.adminApiKey), 'hex') : null;
    this.cache = invalidation.cache(CACHE_TOPIC);
  }

  async authenticate(key: string): Promise<Principal | null> {
    const keyHash = hashKey(key);
    if (this.adminKeyHash && timingSafeEqual(Buffer.from(keyHash, 'hex'), this.adminKeyHash)) {
      return ADMIN_PRINCIPAL;
    }
    // Text that no key of ours can be costs no lookup and no cache entry.
    if (!KEY_SHAPE.test(key)) return null;
    return this.cache.get(keyHash, async () => {
      const row = await this.keys.findActiveByHash(keyHash);
      if (row) void this.keys.touch(row.id).catch(() => undefined);
      return row ? toPrincipal(row) : null;
    });
  }

  async create(dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    const key = `nk_${randomBytes(24).toString('base64url')}`;
    const row = await this.keys.create({
      name: dto.name,
      team: dto.team,
      scopes: [...new Set(dto.scopes)],
      keyHash: hashKey(key),
      keyPrefix: key.slice(0, KEY_PREFIX_LENGTH),
    });
    return { ...toResponse(row), key };
  }

  /** An admin sees every key; any other key (scope keys:read) its own team's. */
  async list(principal: Principal): Promise<ApiKeyResponse[]> {
    return (await this.keys.list(principal.isAdmin ? undefined : principal.team)).map(toResponse);
  }

  async revoke(id: string): Promise<void> {
    const row = await this.keys.findById(id);
    if (!row || !(await this.keys.revoke(id))) {
      throw new NotFoundError('api_key_not_found', `No active API key with id ${id}`);
    }
    // At once here and on every instance that hears it; within REVOCATION_BOUND_MS on the rest.
    await this.invalidation.invalidate(CACHE_TOPIC, row.keyHash);
  }
}

const ADMIN_PRINCIPAL: Principal = Object.freeze({
  keyId: null,
  team: ADMIN_TEAM,
  scopes: new Set(SCOPES),
  isAdmin: true,
});

function toPrincipal(row: ApiKey): Principal {
  const scopes = new Set(row.scopes as Scope[]);
  return { keyId: row.id, team: row.team, scopes, isAdmin: scopes.has('admin') };
}

function toResponse(row: ApiKey): ApiKeyResponse {
  return {
    id: row.id,
    name: row.name,
    team: row.team,
    scopes: row.scopes,
    key_prefix: row.keyPrefix,
    created_at: row.createdAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    revoked_at: row.revokedAt?.toISOString() ?? null,
  };
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { NotFoundError } from '../common/errors/api-error';
import { ApiKeysRepository } from './api-keys.repository';
import type { ApiKeyResponse, CreateApiKeyDto, CreatedApiKeyResponse } from './api-keys.dto';
import type { ApiKey } from './entities/api-key.entity';
import { ADMIN_TEAM, type Principal, SCOPES, type Scope } from './scopes';

const CACHE_TTL_MS = 10_000;
/**
 * Entries the key cache holds at most. Lookups of keys that don't exist are cached too (so a
 * flood of bad keys doesn't become a flood of queries), which made the cache grow by every
 * distinct key ever tried: beyond this the oldest entry goes.
 */
export const CACHE_MAX_ENTRIES = 10_000;

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

@Injectable()
export class ApiKeysService {
  /** How many keys the cache holds now (bounded by CACHE_MAX_ENTRIES). */
  get cachedKeys(): number {
    return this.cache.size;
  }

  /** Short cache so a burst of requests doesn't query the key table each time. */
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  private readonly adminKeyHash: Buffer | null;

  constructor(
    private readonly keys: ApiKeysRepository,
    config: AppConfig,
  ) {
    this.adminKeyHash = config.adminApiKey ? Buffer.from(hashKey(config.adminApiKey), 'hex') : null;
  }

  async authenticate(key: string): Promise<Principal | null> {
    const keyHash = hashKey(key);
    if (this.adminKeyHash && timingSafeEqual(Buffer.from(keyHash, 'hex'), this.adminKeyHash)) {
      return { keyId: null, team: ADMIN_TEAM, scopes: new Set(SCOPES), isAdmin: true };
    }
    const cached = this.cache.get(keyHash);
    if (cached && cached.until > Date.now()) return cached.principal;
    const row = await this.keys.findActiveByHash(keyHash);
    const principal = row ? toPrincipal(row) : null;
    this.cache.delete(keyHash);
    this.cache.set(keyHash, { principal, until: Date.now() + CACHE_TTL_MS });
    // A Map iterates in insertion order: the first key is the oldest.
    if (this.cache.size > CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    if (row) void this.keys.touch(row.id).catch(() => undefined);
    return principal;
  }

  async create(dto: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    const key = `nk_${randomBytes(24).toString('base64url')}`;
    const row = await this.keys.create({
      name: dto.name,
      team: dto.team,
      scopes: [...new Set(dto.scopes)],
      keyHash: hashKey(key),
      keyPrefix: key.slice(0, 8),
    });
    return { ...toResponse(row), key };
  }

  async list(): Promise<ApiKeyResponse[]> {
    return (await this.keys.list()).map(toResponse);
  }

  async revoke(id: string): Promise<void> {
    const row = await this.keys.findById(id);
    if (!row || !(await this.keys.revoke(id))) {
      throw new NotFoundError('api_key_not_found', `No active API key with id ${id}`);
    }
    // Revocation must bite at once on this instance; other instances forget it within the TTL.
    this.cache.delete(row.keyHash);
  }
}

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

import { localRowCaches } from '../cache/invalidated-cache';
import type { AppConfig } from '../config/app-config';
import type { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService, CACHE_MAX_ENTRIES } from './api-keys.service';

/** A key of the service's shape (nk_ and 32 base64url characters) that was never issued. */
const badKey = (i: number) => `nk_bad_${String(i).padStart(28, '0')}`;

describe(ApiKeysService.name, () => {
  const setUp = () => {
    const repo = { findActiveByHash: jest.fn().mockResolvedValue(null), touch: jest.fn() };
    const service = new ApiKeysService(repo as unknown as ApiKeysRepository, localRowCaches(), {
      adminApiKey: null,
    } as AppConfig);
    return { repo, service };
  };

  it('keeps its cache bounded however many distinct bad keys are tried', async () => {
    const { repo, service } = setUp();
    for (let i = 0; i < CACHE_MAX_ENTRIES + 500; i++) {
      expect(await service.authenticate(badKey(i))).toBeNull();
    }
    expect(service.cachedKeys).toBe(CACHE_MAX_ENTRIES);
    // The newest are kept: a repeat of a recent bad key is answered from the cache.
    const calls = repo.findActiveByHash.mock.calls.length;
    await service.authenticate(badKey(CACHE_MAX_ENTRIES + 499));
    expect(repo.findActiveByHash.mock.calls.length).toBe(calls);
  });

  it('spends no lookup and no cache entry on text that no issued key can be', async () => {
    const { repo, service } = setUp();
    for (const text of [
      'nk_short',
      'sk_live_0123456789012345678901234567',
      `nk_${'a'.repeat(33)}`,
    ]) {
      expect(await service.authenticate(text)).toBeNull();
    }
    expect(repo.findActiveByHash).not.toHaveBeenCalled();
    expect(service.cachedKeys).toBe(0);
  });
});

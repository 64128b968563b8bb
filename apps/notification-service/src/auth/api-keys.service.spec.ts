import { localRowCaches } from '../cache/invalidated-cache';
import type { AppConfig } from '../config/app-config';
import type { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService, CACHE_MAX_ENTRIES } from './api-keys.service';

describe(ApiKeysService.name, () => {
  it('keeps its cache bounded however many distinct bad keys are tried', async () => {
    const repo = { findActiveByHash: jest.fn().mockResolvedValue(null), touch: jest.fn() };
    const service = new ApiKeysService(repo as unknown as ApiKeysRepository, localRowCaches(), {
      adminApiKey: null,
    } as AppConfig);
    for (let i = 0; i < CACHE_MAX_ENTRIES + 500; i++) {
      expect(await service.authenticate(`nk_bad_${i}`)).toBeNull();
    }
    expect(service.cachedKeys).toBe(CACHE_MAX_ENTRIES);
    // The newest are kept: a repeat of a recent bad key is answered from the cache.
    const calls = repo.findActiveByHash.mock.calls.length;
    await service.authenticate(`nk_bad_${CACHE_MAX_ENTRIES + 499}`);
    expect(repo.findActiveByHash.mock.calls.length).toBe(calls);
  });
});

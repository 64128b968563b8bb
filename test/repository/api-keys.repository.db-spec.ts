import { randomBytes, randomUUID } from 'node:crypto';
import { MAX_API_KEYS_LISTED } from '../../apps/notification-service/src/auth/api-keys-list';
import { ApiKeysRepository } from '../../apps/notification-service/src/auth/api-keys.repository';
import { ApiKey } from '../../apps/notification-service/src/auth/entities/api-key.entity';
import { cloneTemplateDatabase, type ScratchDatabase, sqlState } from './scratch-database';

/** The keys every request is authenticated against: found by hash while active, listed bounded. */
describe(ApiKeysRepository.name, () => {
  let scratch: ScratchDatabase;
  let keys: ApiKeysRepository;

  beforeAll(async () => {
    scratch = await cloneTemplateDatabase('keys');
    keys = new ApiKeysRepository(scratch.db.getRepository(ApiKey));
  });
  afterAll(() => scratch?.drop());
  beforeEach(() => scratch.db.query(`DELETE FROM api_keys`));

  const newKey = (scopes: string[] = ['send'], team = 'alpha') =>
    keys.create({
      name: `key of ${team}`,
      team,
      scopes,
      keyHash: randomBytes(32).toString('hex'),
      keyPrefix: 'nk_test',
    });

  it('finds an active key by its hash, and nothing once it is revoked', async () => {
    const key = await newKey(['send', 'read']);
    expect(await keys.findActiveByHash(key.keyHash)).toMatchObject({
      id: key.id,
      team: 'alpha',
      scopes: ['send', 'read'],
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(await keys.findActiveByHash(randomBytes(32).toString('hex'))).toBeNull();

    expect(await keys.revoke(key.id)).toBe(true);
    expect(await keys.findActiveByHash(key.keyHash)).toBeNull();
    // Still there by id: the list and the audit show revoked keys.
    expect((await keys.findById(key.id))?.revokedAt).toBeInstanceOf(Date);
  });

  it('never stores two keys with the same hash', async () => {
    const key = await newKey();
    // 23505: unique_violation.
    expect(
      await sqlState(
        keys.create({
          name: 'twin',
          team: 'beta',
          scopes: [],
          keyHash: key.keyHash,
          keyPrefix: 'x',
        }),
      ),
    ).toBe('23505');
  });

  it('revokes a key once: a second revoke, or one of an unknown id, says nothing changed', async () => {
    const key = await newKey();
    expect(await keys.revoke(key.id)).toBe(true);
    const revokedAt = (await keys.findById(key.id))?.revokedAt;
    expect(await keys.revoke(key.id)).toBe(false);
    expect((await keys.findById(key.id))?.revokedAt).toEqual(revokedAt);
    expect(await keys.revoke(randomUUID())).toBe(false);
  });

  it('lets exactly one of concurrent revokes of a key report the revocation', async () => {
    const key = await newKey();
    const results = await Promise.all(Array.from({ length: 8 }, () => keys.revoke(key.id)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('lists active keys first, then revoked ones, each oldest first', async () => {
    const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
    const rows = [
      { name: 'revoked-old', created: at(1), revoked: true },
      { name: 'active-new', created: at(4), revoked: false },
      { name: 'revoked-new', created: at(3), revoked: true },
      { name: 'active-old', created: at(2), revoked: false },
    ];
    for (const row of rows) {
      await scratch.db.query(
        `INSERT INTO api_keys (name, team, scopes, key_hash, key_prefix, created_at, revoked_at)
         VALUES ($1, 'alpha', '{send}', $2, 'nk', $3, CASE WHEN $4 THEN now() END)`,
        [row.name, randomUUID(), row.created, row.revoked],
      );
    }
    expect((await keys.list()).map((k) => k.name)).toEqual([
      'active-old',
      'active-new',
      'revoked-old',
      'revoked-new',
    ]);
  });

  it(`lists at most ${MAX_API_KEYS_LISTED} keys, and the revoked ones are what the bound leaves out`, async () => {
    // Revoked keys made before every active one: only the order puts them last.
    await scratch.db.query(
      `INSERT INTO api_keys (name, team, scopes, key_hash, key_prefix, created_at, revoked_at)
       SELECT 'revoked', 'alpha', '{send}', 'r' || i, 'nk', now() - interval '1 day', now()
       FROM generate_series(1, 10) i`,
    );
    await scratch.db.query(
      `INSERT INTO api_keys (name, team, scopes, key_hash, key_prefix)
       SELECT 'active', 'alpha', '{send}', 'a' || i, 'nk' FROM generate_series(1, $1::int) i`,
      [MAX_API_KEYS_LISTED + 5],
    );
    const listed = await keys.list();
    expect(listed).toHaveLength(MAX_API_KEYS_LISTED);
    expect(listed.every((k) => k.revokedAt === null)).toBe(true);
  });

  it('knows whether an active key can still mint keys: an unrevoked admin key', async () => {
    expect(await keys.hasActiveAdminKey()).toBe(false);
    await newKey(['send', 'read']);
    expect(await keys.hasActiveAdminKey()).toBe(false);
    const admin = await newKey(['read', 'admin']);
    expect(await keys.hasActiveAdminKey()).toBe(true);
    await keys.revoke(admin.id);
    expect(await keys.hasActiveAdminKey()).toBe(false);
  });

  it('records when a key was last used, and only for that key', async () => {
    const used = await newKey();
    const idle = await newKey();
    const before = new Date();
    await keys.touch(used.id);
    const lastUsedAt = (await keys.findById(used.id))?.lastUsedAt;
    expect(lastUsedAt?.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1_000);
    expect((await keys.findById(idle.id))?.lastUsedAt).toBeNull();
  });
});

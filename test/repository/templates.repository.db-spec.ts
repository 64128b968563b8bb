import { TemplateDraft } from '../../apps/notification-service/src/templates/entities/template-draft.entity';
import { TemplateVersion } from '../../apps/notification-service/src/templates/entities/template-version.entity';
import { Template } from '../../apps/notification-service/src/templates/entities/template.entity';
import type { Namespace } from '../../apps/notification-service/src/templates/template-scope';
import {
  TemplatesRepository,
  type VersionContent,
} from '../../apps/notification-service/src/templates/templates.repository';
import { cloneTemplateDatabase, type ScratchDatabase } from './scratch-database';

/**
 * Templates in their namespaces (a team's, or the shared one): what a key resolves to for a
 * team, versions numbered without gaps under concurrent edits, lists in a stable order.
 */
describe(TemplatesRepository.name, () => {
  let scratch: ScratchDatabase;
  let templates: TemplatesRepository;

  beforeAll(async () => {
    scratch = await cloneTemplateDatabase('tpl');
    const { db } = scratch;
    templates = new TemplatesRepository(
      db.getRepository(Template),
      db.getRepository(TemplateVersion),
      db.getRepository(TemplateDraft),
      db,
    );
  });
  afterAll(() => scratch?.drop());
  beforeEach(() => scratch.db.query(`DELETE FROM templates`));

  const content = (body: string): VersionContent => ({
    body,
    variables: [],
    senderId: null,
    description: null,
    category: 'transactional',
    smartEncoding: false,
  });

  async function create(
    key: string,
    namespace: Namespace,
    body = `${key} of ${namespace ?? 'all'}`,
  ) {
    const result = await templates.createWithFirstVersion(key, namespace, content(body));
    if (!('created' in result)) throw new Error(`${key} is taken by ${String(result.takenBy)}`);
    return result.created;
  }

  describe('creating', () => {
    it('stores version 1 and answers which namespace holds a key already', async () => {
      const created = await create('welcome', null, 'Hello');
      expect(created.template).toMatchObject({
        key: 'welcome',
        ownerTeam: null,
        currentVersion: 1,
      });
      expect(created.version).toMatchObject({ version: 1, body: 'Hello' });

      // Taken in the same namespace; a team may not shadow a shared key either.
      expect(await templates.createWithFirstVersion('welcome', null, content('x'))).toEqual({
        takenBy: null,
      });
      expect(await templates.createWithFirstVersion('welcome', 'alpha', content('x'))).toEqual({
        takenBy: null,
      });
      await create('promo', 'alpha');
      expect(await templates.createWithFirstVersion('promo', 'alpha', content('x'))).toEqual({
        takenBy: 'alpha',
      });
      // Another team's key is no obstacle.
      await create('promo', 'beta');
    });

    it('keeps a key of an archived shared template from any team', async () => {
      await create('retired', null);
      expect(await templates.archive('retired', null)).toBe(true);
      expect(await templates.createWithFirstVersion('retired', 'alpha', content('x'))).toEqual({
        takenBy: null,
      });
    });

    it('lets exactly one of concurrent creations of a key in one namespace win', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          templates.createWithFirstVersion('race', 'alpha', content(`body ${i}`)),
        ),
      );
      expect(results.filter((r) => 'created' in r)).toHaveLength(1);
      expect(results.filter((r) => 'takenBy' in r)).toEqual(
        Array.from({ length: 7 }, () => ({ takenBy: 'alpha' })),
      );
    });

    it('never ends with a team template shadowing a shared one, whoever wins the race', async () => {
      for (let round = 0; round < 5; round++) {
        const key = `race_${round}`;
        const [team] = await Promise.all([
          templates.createWithFirstVersion(key, 'alpha', content('team')),
          templates.createWithFirstVersion(key, null, content('shared')),
        ]);
        const [{ n }] = await scratch.db.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM templates WHERE key = $1`,
          [key],
        );
        // Either the team's came first (both exist) or the shared one did (the team's was refused).
        expect(n).toBe('created' in team ? 2 : 1);
      }
    });
  });

  describe('versions', () => {
    it('adds the next version from the current one and makes it current', async () => {
      await create('otp', null, 'Code {{code}}');
      const v2 = await templates.addVersion('otp', null, (current) => ({
        ...content(`${current.body}!`),
        variables: ['code'],
      }));
      expect(v2?.version).toMatchObject({
        version: 2,
        body: 'Code {{code}}!',
        variables: ['code'],
      });
      expect(v2?.template.currentVersion).toBe(2);
      expect((await templates.findCurrent('otp', { kind: 'all' }, false))?.version.version).toBe(2);
    });

    it('gives concurrent edits one number each, without gaps', async () => {
      await create('busy', 'alpha');
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          templates.addVersion('busy', 'alpha', () => content(`edit ${i}`)),
        ),
      );
      expect(results.map((r) => r?.version.version).sort((a, b) => a! - b!)).toEqual([
        2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
      ]);
      const current = await templates.findCurrent(
        'busy',
        { kind: 'namespace', namespace: 'alpha' },
        false,
      );
      expect(current?.version.version).toBe(11);
    });

    it('adds no version to an archived template, nor to a key the namespace does not hold', async () => {
      await create('gone', 'alpha');
      await templates.archive('gone', 'alpha');
      expect(await templates.addVersion('gone', 'alpha', () => content('x'))).toBeNull();
      await create('shared', null);
      expect(await templates.addVersion('shared', 'alpha', () => content('x'))).toBeNull();
      expect(await templates.addVersion('nowhere', null, () => content('x'))).toBeNull();
    });

    it('finds a version by number and pages through versions oldest first', async () => {
      const { template } = await create('paged', null, 'v1');
      for (let i = 2; i <= 5; i++)
        await templates.addVersion('paged', null, () => content(`v${i}`));
      expect((await templates.findVersion(template.id, 3))?.body).toBe('v3');
      expect(await templates.findVersion(template.id, 6)).toBeNull();
      expect((await templates.listVersions(template.id, 0, 2)).map((v) => v.body)).toEqual([
        'v1',
        'v2',
      ]);
      expect((await templates.listVersions(template.id, 2, 2)).map((v) => v.body)).toEqual([
        'v3',
        'v4',
      ]);
      expect((await templates.listVersions(template.id, 4, 2)).map((v) => v.body)).toEqual(['v5']);
    });
  });

  describe('what a key resolves to', () => {
    it('gives a team its own template of a key, the shared one only when it has none', async () => {
      await create('welcome', null, 'shared welcome');
      await create('promo', 'alpha', 'alpha promo');
      await create('promo', null, 'shared promo');
      const forAlpha = { kind: 'team', team: 'alpha' } as const;
      const forBeta = { kind: 'team', team: 'beta' } as const;
      expect((await templates.findCurrent('welcome', forAlpha, false))?.version.body).toBe(
        'shared welcome',
      );
      expect((await templates.findCurrent('promo', forAlpha, false))?.version.body).toBe(
        'alpha promo',
      );
      expect((await templates.findCurrent('promo', forBeta, false))?.version.body).toBe(
        'shared promo',
      );
      expect(await templates.findCurrent('absent', forAlpha, false)).toBeNull();
    });

    it('does not switch a team to the shared text when it archives its own', async () => {
      await create('promo', 'alpha', 'alpha promo');
      await create('promo', null, 'shared promo');
      await templates.archive('promo', 'alpha');
      const forAlpha = { kind: 'team', team: 'alpha' } as const;
      expect(await templates.findCurrent('promo', forAlpha, false)).toBeNull();
      expect(await templates.findTemplate('promo', forAlpha, false)).toBeNull();
      const archived = await templates.findCurrent('promo', forAlpha, true);
      expect(archived?.version.body).toBe('alpha promo');
      expect(archived?.template.archivedAt).toBeInstanceOf(Date);
    });

    it("hides one team's templates from another and from the shared namespace", async () => {
      await create('secret', 'alpha');
      expect(
        await templates.findTemplate('secret', { kind: 'team', team: 'beta' }, true),
      ).toBeNull();
      expect(
        await templates.findTemplate('secret', { kind: 'namespace', namespace: null }, true),
      ).toBeNull();
      expect(
        (await templates.findTemplate('secret', { kind: 'namespace', namespace: 'alpha' }, false))
          ?.ownerTeam,
      ).toBe('alpha');
    });
  });

  it('archives a template once, in its own namespace only', async () => {
    await create('twice', 'alpha');
    await create('twice', 'beta');
    expect(await templates.archive('twice', 'gamma')).toBe(false);
    expect(await templates.archive('twice', 'alpha')).toBe(true);
    expect(await templates.archive('twice', 'alpha')).toBe(false);
    expect(
      (await templates.findTemplate('twice', { kind: 'namespace', namespace: 'beta' }, false))
        ?.archivedAt,
    ).toBeNull();
  });

  describe('lists', () => {
    const page = async (after?: { key: string; owner: string }, limit = 100) =>
      (await templates.listCurrent({ kind: 'all' }, false, after, limit)).map(
        (t) => `${t.template.key}/${t.template.ownerTeam ?? ''}`,
      );

    it('orders by key then owner in code-point order, the shared template first', async () => {
      // A locale collation would put these in another order ("_" and "-" are ignored by many).
      // Teams' templates first: a shared one would keep a team from making its own of the key.
      await create('ab', 'beta');
      await create('ab', 'alpha');
      for (const key of ['a_b', 'a-b', 'aB', 'a.b', 'ab', 'Ab']) await create(key, null);
      expect(await page()).toEqual([
        'Ab/',
        'a-b/',
        'a.b/',
        'aB/',
        'a_b/',
        'ab/',
        'ab/alpha',
        'ab/beta',
      ]);
    });

    it('pages from a position to the end without repeating or skipping, at current versions', async () => {
      await create('k2', 'alpha', 'k2 alpha v1');
      for (const key of ['k1', 'k2', 'k3']) await create(key, null, `${key} v1`);
      await templates.addVersion('k3', null, () => content('k3 v2'));
      const first = await page(undefined, 2);
      expect(first).toEqual(['k1/', 'k2/']);
      expect(await page({ key: 'k2', owner: '' }, 2)).toEqual(['k2/alpha', 'k3/']);
      expect(await page({ key: 'k3', owner: '' }, 2)).toEqual([]);
      const bodies = (await templates.listCurrent({ kind: 'all' }, false, undefined, 10)).map(
        (t) => t.version.body,
      );
      expect(bodies).toEqual(['k1 v1', 'k2 v1', 'k2 alpha v1', 'k3 v2']);
    });

    it('lists what the scope sees, archived ones only when asked', async () => {
      await create('shared', null);
      await create('own', 'alpha');
      await create('other', 'beta');
      await create('old', 'alpha');
      await templates.archive('old', 'alpha');
      const forAlpha = { kind: 'team', team: 'alpha' } as const;
      const keys = async (archived: boolean) =>
        (await templates.listCurrent(forAlpha, archived, undefined, 10)).map((t) => t.template.key);
      expect(await keys(false)).toEqual(['own', 'shared']);
      expect(await keys(true)).toEqual(['old', 'own', 'shared']);
    });
  });
});

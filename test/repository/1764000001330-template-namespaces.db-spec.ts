import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDatabase, dropDatabase } from '../../tools/stack/database';
import { databasePrefix, databaseUrl, PG_ADMIN_URL } from '../support/test-env';
import { databaseOptions } from '../../apps/notification-service/src/database/database-options';
import { MIGRATIONS } from '../../apps/notification-service/src/database/entities';
import { TemplateNamespaces1764000001330 } from '../../apps/notification-service/src/database/migrations/1764000001330-template-namespaces';

/** The migration on a database holding templates made under the one global namespace. */
describe(TemplateNamespaces1764000001330.name, () => {
  const name = `${databasePrefix()}_tns_${randomBytes(4).toString('hex')}`;
  const upTo = MIGRATIONS.indexOf(TemplateNamespaces1764000001330);
  let db: DataSource;

  /** A data source that knows the migrations before this one, or up to and including it. */
  const migrations = (including: boolean) =>
    new DataSource({
      ...databaseOptions(databaseUrl(name)),
      migrations: MIGRATIONS.slice(0, including ? upTo + 1 : upTo),
    });

  async function template(key: string, owner: string | null, archived = false): Promise<string> {
    const [row] = await db.query<{ id: string }[]>(
      `INSERT INTO templates (key, owner_team, current_version, archived_at)
       VALUES ($1, $2, 1, CASE WHEN $3 THEN now() END) RETURNING id`,
      [key, owner, archived],
    );
    await db.query(
      `INSERT INTO template_versions (template_id, version, body, variables)
       VALUES ($1, 1, $2, '{}')`,
      [row.id, `${key} of ${owner ?? 'everyone'}`],
    );
    return row.id;
  }

  async function violation(work: Promise<unknown>): Promise<string | undefined> {
    try {
      await work;
      return undefined;
    } catch (error) {
      return (error as { code?: string }).code;
    }
  }

  beforeAll(async () => {
    expect(upTo).toBeGreaterThan(0);
    await createDatabase(PG_ADMIN_URL, name);
    db = migrations(false);
    await db.initialize();
    await db.runMigrations({ transaction: 'each' });
    await template('welcome', null);
    await template('alpha_only', 'alpha');
    await template('retired', null, true);
    await db.destroy();

    db = migrations(true);
    await db.initialize();
    await db.runMigrations({ transaction: 'each' });
  });

  afterAll(async () => {
    await db?.destroy();
    await dropDatabase(PG_ADMIN_URL, name);
  });

  it('keeps every template and version as it was', async () => {
    const rows = await db.query<unknown[]>(
      `SELECT t.key, t.owner_team, t.archived_at IS NOT NULL AS archived, v.body
       FROM templates t JOIN template_versions v ON v.template_id = t.id ORDER BY t.key`,
    );
    expect(rows).toEqual([
      { key: 'alpha_only', owner_team: 'alpha', archived: false, body: 'alpha_only of alpha' },
      { key: 'retired', owner_team: null, archived: true, body: 'retired of everyone' },
      { key: 'welcome', owner_team: null, archived: false, body: 'welcome of everyone' },
    ]);
  });

  it('makes a key unique per owner: each team and the shared templates', async () => {
    expect(await violation(template('welcome', 'alpha'))).toBeUndefined();
    expect(await violation(template('welcome', 'beta'))).toBeUndefined();
    expect(await violation(template('alpha_only', null))).toBeUndefined();
    // 23505: unique_violation.
    expect(await violation(template('welcome', null))).toBe('23505');
    expect(await violation(template('retired', null))).toBe('23505');
    expect(await violation(template('alpha_only', 'alpha'))).toBe('23505');
  });

  it('goes down only once no key has more than one owner', async () => {
    await expect(db.undoLastMigration({ transaction: 'each' })).rejects.toThrow(
      /alpha_only, welcome are held by more than one owner/,
    );
    await db.query(
      `DELETE FROM templates WHERE (key = 'welcome' AND owner_team IS NOT NULL)
         OR (key = 'alpha_only' AND owner_team IS NULL)`,
    );
    await db.undoLastMigration({ transaction: 'each' });
    expect(await violation(template('welcome', 'gamma'))).toBe('23505');
  });
});

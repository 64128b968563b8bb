import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Template keys per owner: a key is unique within the shared namespace (`owner_team IS NULL`) and
 * within each team's, no longer across all of them. One global namespace told a team that another
 * team's private key existed (409) and let a team take a key an admin then could not share.
 *
 * Existing keys are unique across all namespaces, so both indexes build on any existing data; the
 * old constraint is dropped only once they stand. Down is refused while a key is held by more than
 * one namespace: making the key global again would have to pick which template to delete.
 */
export class TemplateNamespaces1764000001330 implements MigrationInterface {
  name = 'TemplateNamespaces1764000001330';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE UNIQUE INDEX templates_shared_key_unique ON templates (key) WHERE owner_team IS NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX templates_team_key_unique ON templates (owner_team, key)
       WHERE owner_team IS NOT NULL`,
    );
    await q.query(`ALTER TABLE templates DROP CONSTRAINT templates_key_key`);
  }

  async down(q: QueryRunner): Promise<void> {
    const repeated = (await q.query(
      `SELECT key FROM templates GROUP BY key HAVING count(*) > 1 ORDER BY key LIMIT 10`,
    )) as { key: string }[];
    if (repeated.length > 0) {
      throw new Error(
        `Cannot make template keys global again: ${repeated.map((r) => r.key).join(', ')} ` +
          'are held by more than one owner; rename or delete all but one of each first',
      );
    }
    await q.query(`ALTER TABLE templates ADD CONSTRAINT templates_key_key UNIQUE (key)`);
    await q.query(`DROP INDEX templates_team_key_unique`);
    await q.query(`DROP INDEX templates_shared_key_unique`);
  }
}

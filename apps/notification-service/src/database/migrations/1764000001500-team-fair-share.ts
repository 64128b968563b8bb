import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Teams share the provider fairly (issue #20):
 * - each message carries its team (copied from its notification), so the dispatcher can give
 *   each team its share without a join, and a team's backlog is one indexed count;
 * - `teams` holds what an admin sets per team: its weight and high-priority allowance, its
 *   backlog cap, its monthly budget in provider credits. A team without a row has the defaults;
 * - `team_usage` holds each team's credits per month, reserved at intake and used at the provider.
 *
 * Only unsent messages get their team filled in: they are the ones still to be dispatched, and
 * rewriting every finished row of a large table would hold the migration for minutes.
 */
export class TeamFairShare1764000001500 implements MigrationInterface {
  name = 'TeamFairShare1764000001500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages ADD COLUMN team text`);
    await q.query(`
      UPDATE messages m SET team = n.team FROM notifications n
      WHERE n.id = m.notification_id AND m.status IN ('scheduled', 'pending')`);
    await q.query(
      `CREATE INDEX messages_team_unsent_idx ON messages (team)
       WHERE status IN ('scheduled', 'pending')`,
    );
    await q.query(`
      CREATE TABLE teams (
        team text PRIMARY KEY,
        weight integer NOT NULL DEFAULT 1 CHECK (weight BETWEEN 1 AND 100),
        high_per_minute integer CHECK (high_per_minute >= 0),
        max_backlog integer CHECK (max_backlog >= 0),
        monthly_credit_budget integer CHECK (monthly_credit_budget >= 0),
        budget_hard_stop boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by_key text
      )`);
    // A team's provider credits per calendar month (UTC): reserved at intake (segments of the
    // messages accepted), used as the provider reports them per send.
    await q.query(`
      CREATE TABLE team_usage (
        team text NOT NULL,
        month date NOT NULL,
        reserved_credits bigint NOT NULL DEFAULT 0,
        used_credits bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (team, month)
      )`);
    // The same used credits per UTC day: the month's chart on the Teams page.
    await q.query(`
      CREATE TABLE team_usage_daily (
        team text NOT NULL,
        day date NOT NULL,
        used_credits bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (team, day)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE team_usage_daily`);
    await q.query(`DROP TABLE team_usage`);
    await q.query(`DROP TABLE teams`);
    await q.query(`DROP INDEX messages_team_unsent_idx`);
    await q.query(`ALTER TABLE messages DROP COLUMN team`);
  }
}

import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

/** What an admin has set for a team; a team without a row has the defaults. */
export interface TeamRow {
  team: string;
  weight: number;
  highPerMinute: number | null;
  maxBacklog: number | null;
  monthlyCreditBudget: number | null;
  budgetHardStop: boolean;
  updatedAt: Date;
  /** The API key that last changed the row (null: the environment's ADMIN_API_KEY). */
  updatedByKey: string | null;
}

/** What a PUT changes: each field given is set, each left out kept. */
export type TeamChanges = Partial<
  Pick<
    TeamRow,
    'weight' | 'highPerMinute' | 'maxBacklog' | 'monthlyCreditBudget' | 'budgetHardStop'
  >
>;

/** A team's provider credits in one month. */
export interface TeamUsage {
  reservedCredits: number;
  usedCredits: number;
}

interface TeamRecord {
  team: string;
  weight: number;
  high_per_minute: number | null;
  max_backlog: number | null;
  monthly_credit_budget: number | null;
  budget_hard_stop: boolean;
  updated_at: Date;
  updated_by_key: string | null;
}

const TEAM_COLUMNS = `team, weight, high_per_minute, max_backlog, monthly_credit_budget,
  budget_hard_stop, updated_at, updated_by_key`;

/** Each settable field's column. */
const COLUMN: Record<keyof TeamChanges, string> = {
  weight: 'weight',
  highPerMinute: 'high_per_minute',
  maxBacklog: 'max_backlog',
  monthlyCreditBudget: 'monthly_credit_budget',
  budgetHardStop: 'budget_hard_stop',
};

/** At most this many teams are read at once: teams are set by hand, never thousands. */
export const MAX_TEAMS = 1000;

@Injectable()
export class TeamsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async all(): Promise<TeamRow[]> {
    const rows: TeamRecord[] = await this.db.query(
      `SELECT ${TEAM_COLUMNS} FROM teams ORDER BY team LIMIT $1`,
      [MAX_TEAMS],
    );
    return rows.map(toTeamRow);
  }

  async get(team: string): Promise<TeamRow | null> {
    const rows: TeamRecord[] = await this.db.query(
      `SELECT ${TEAM_COLUMNS} FROM teams WHERE team = $1`,
      [team],
    );
    return rows.length ? toTeamRow(rows[0]) : null;
  }

  /**
   * Sets the given fields in one statement (a new row takes the defaults for the others), so two
   * PUTs at once that change different fields both keep their change.
   */
  async upsert(team: string, changes: TeamChanges, byKey: string | null): Promise<TeamRow> {
    const fields = (Object.keys(COLUMN) as (keyof TeamChanges)[]).filter(
      (field) => changes[field] !== undefined,
    );
    const columns = fields.map((field) => COLUMN[field]);
    const values = fields.map((field) => changes[field]);
    const rows: TeamRecord[] = await this.db.query(
      `INSERT INTO teams (team, updated_by_key${columns.map((c) => `, ${c}`).join('')})
       VALUES ($1, $2${columns.map((_, i) => `, $${i + 3}`).join('')})
       ON CONFLICT (team) DO UPDATE SET updated_at = now(), updated_by_key = EXCLUDED.updated_by_key
         ${columns.map((c) => `, ${c} = EXCLUDED.${c}`).join('')}
       RETURNING ${TEAM_COLUMNS}`,
      [team, byKey, ...values],
    );
    return toTeamRow(rows[0]);
  }

  /**
   * The teams there are: those with settings, with API keys (revoked ones too) or with
   * notifications, alphabetically, at most MAX_TEAMS. The notifications' teams are found by
   * skipping through their (team, created_at) index one team at a time: a step per team, not a
   * pass over every notification.
   */
  async known(): Promise<string[]> {
    const rows: { team: string }[] = await this.db.query(
      `WITH RECURSIVE sent AS (
         (SELECT team FROM notifications ORDER BY team LIMIT 1)
         UNION ALL
         SELECT (SELECT n.team FROM notifications n WHERE n.team > sent.team
                 ORDER BY n.team LIMIT 1)
         FROM sent WHERE sent.team IS NOT NULL
       )
       SELECT team FROM (
         (SELECT team FROM teams ORDER BY team LIMIT $1)
         UNION
         (SELECT DISTINCT team FROM api_keys ORDER BY team LIMIT $1)
         UNION
         (SELECT team FROM sent WHERE team IS NOT NULL LIMIT $1)
       ) t
       ORDER BY team LIMIT $1`,
      [MAX_TEAMS],
    );
    return rows.map((row) => row.team);
  }

  /** The teams' credits in the month starting `month` (UTC); a team without a row used none. */
  /** Used credits per UTC day of the month starting `month`, per team (31 rows a team at most). */
  async dailyUsage(
    teams: readonly string[],
    month: string,
  ): Promise<Map<string, { day: string; usedCredits: number }[]>> {
    const rows: { team: string; day: string; used_credits: number }[] = await this.db.query(
      `SELECT team, to_char(day, 'YYYY-MM-DD') AS day, used_credits::float8 AS used_credits
       FROM team_usage_daily
       WHERE team = ANY($1::text[]) AND day >= $2::date AND day < ($2::date + interval '1 month')
       ORDER BY team, day`,
      [teams, month],
    );
    const byTeam = new Map<string, { day: string; usedCredits: number }[]>();
    for (const row of rows) {
      const days = byTeam.get(row.team) ?? [];
      days.push({ day: row.day, usedCredits: row.used_credits });
      byTeam.set(row.team, days);
    }
    return byTeam;
  }

  async usage(teams: readonly string[], month: string): Promise<Map<string, TeamUsage>> {
    const rows: { team: string; reserved_credits: number; used_credits: number }[] =
      await this.db.query(
        `SELECT team, reserved_credits::float8 AS reserved_credits,
           used_credits::float8 AS used_credits
         FROM team_usage WHERE team = ANY($1::text[]) AND month = $2::date`,
        [teams, month],
      );
    return new Map(
      rows.map((row) => [
        row.team,
        { reservedCredits: row.reserved_credits, usedCredits: row.used_credits },
      ]),
    );
  }
}

function toTeamRow(row: TeamRecord): TeamRow {
  return {
    team: row.team,
    weight: row.weight,
    highPerMinute: row.high_per_minute,
    maxBacklog: row.max_backlog,
    monthlyCreditBudget: row.monthly_credit_budget,
    budgetHardStop: row.budget_hard_stop,
    updatedAt: row.updated_at,
    updatedByKey: row.updated_by_key,
  };
}

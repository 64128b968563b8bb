import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { MAX_TEAMS } from './teams.repository';

/** A team with a monthly budget, and its credits in one month. */
export interface TeamBudgetRow {
  team: string;
  budget: number;
  hardStop: boolean;
  reserved: number;
  used: number;
}

/** What refused a reservation: the month's figures as they were. */
export interface Refusal {
  budget: number;
  reserved: number;
  used: number;
}

interface BudgetRecord {
  team: string;
  monthly_credit_budget: number;
  budget_hard_stop: boolean;
  reserved_credits: string;
  used_credits: string;
}

/**
 * `team_usage`: each team's provider credits per UTC month, reserved at intake and used at the
 * provider. Every change is one statement on the team's row, so concurrent requests and workers
 * add up without reading first.
 */
@Injectable()
export class TeamUsageRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Adds `credits` to the month's reservation unless the team has a hard-stop budget that the
   * larger of reserved and used would pass. One conditional UPDATE: Postgres re-checks the
   * condition on the row as the previous writer left it, so concurrent reservations never pass
   * the budget together. The budget is read once for the statement (not correlated with the
   * row): a condition correlated with the row through a subquery on `teams` was planned as an
   * anti-join, whose re-check let up to 9 of 20 concurrent reservations through a budget of 5. Null
   * when reserved; the figures that refused it otherwise.
   */
  async reserve(team: string, month: string, credits: number): Promise<Refusal | null> {
    await this.ensureRow(team, month);
    // In a CTE so the driver answers with plain rows (a bare UPDATE … RETURNING does not).
    const rows: unknown[] = await this.db.query(
      `WITH budget AS (
         SELECT monthly_credit_budget AS credits FROM teams
         WHERE team = $1 AND budget_hard_stop AND monthly_credit_budget IS NOT NULL
       ), reserved AS (
         UPDATE team_usage u SET reserved_credits = u.reserved_credits + $3
         WHERE u.team = $1 AND u.month = $2
           AND (NOT EXISTS (SELECT 1 FROM budget)
             OR GREATEST(u.reserved_credits, u.used_credits) + $3 <= (SELECT credits FROM budget))
         RETURNING u.reserved_credits
       )
       SELECT reserved_credits FROM reserved`,
      [team, month, credits],
    );
    if (rows.length > 0) return null;
    const [row] = await this.withBudgets(month, team);
    return row
      ? { budget: row.budget, reserved: row.reserved, used: row.used }
      : { budget: 0, reserved: 0, used: 0 };
  }

  /** Gives back part of a reservation (a request not stored after all); never below zero. */
  async release(team: string, month: string, credits: number): Promise<void> {
    await this.db.query(
      `UPDATE team_usage SET reserved_credits = GREATEST(0, reserved_credits - $3)
       WHERE team = $1 AND month = $2`,
      [team, month, credits],
    );
  }

  /**
   * Adds credits the provider charged, to the month and to today (UTC); the month's used credits
   * after the addition.
   */
  async addUsed(team: string, month: string, credits: number): Promise<number> {
    const rows: { used_credits: string }[] = await this.db.query(
      `WITH daily AS (
         INSERT INTO team_usage_daily (team, day, used_credits)
         VALUES ($1, (now() AT TIME ZONE 'UTC')::date, $3)
         ON CONFLICT (team, day)
         DO UPDATE SET used_credits = team_usage_daily.used_credits + EXCLUDED.used_credits
       )
       INSERT INTO team_usage (team, month, used_credits) VALUES ($1, $2, $3)
       ON CONFLICT (team, month)
       DO UPDATE SET used_credits = team_usage.used_credits + EXCLUDED.used_credits
       RETURNING used_credits`,
      [team, month, credits],
    );
    return Number(rows[0].used_credits);
  }

  /** The teams with a budget and their credits in `month` (one team's when `team` is given). */
  async withBudgets(month: string, team?: string): Promise<TeamBudgetRow[]> {
    const rows: BudgetRecord[] = await this.db.query(
      `SELECT t.team, t.monthly_credit_budget, t.budget_hard_stop,
         COALESCE(u.reserved_credits, 0) AS reserved_credits,
         COALESCE(u.used_credits, 0) AS used_credits
       FROM teams t
       LEFT JOIN team_usage u ON u.team = t.team AND u.month = $1
       WHERE t.monthly_credit_budget IS NOT NULL AND ($2::text IS NULL OR t.team = $2)
       ORDER BY t.team LIMIT $3`,
      [month, team ?? null, MAX_TEAMS],
    );
    return rows.map((row) => ({
      team: row.team,
      budget: row.monthly_credit_budget,
      hardStop: row.budget_hard_stop,
      reserved: Number(row.reserved_credits),
      used: Number(row.used_credits),
    }));
  }

  private async ensureRow(team: string, month: string): Promise<void> {
    await this.db.query(
      `INSERT INTO team_usage (team, month) VALUES ($1, $2) ON CONFLICT (team, month) DO NOTHING`,
      [team, month],
    );
  }
}

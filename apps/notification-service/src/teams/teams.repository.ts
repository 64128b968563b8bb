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
}

interface TeamRecord {
  team: string;
  weight: number;
  high_per_minute: number | null;
  max_backlog: number | null;
  monthly_credit_budget: number | null;
  budget_hard_stop: boolean;
  updated_at: Date;
}

/** At most this many teams are read at once: teams are set by hand, never thousands. */
export const MAX_TEAMS = 1000;

@Injectable()
export class TeamsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async all(): Promise<TeamRow[]> {
    const rows: TeamRecord[] = await this.db.query(
      `SELECT team, weight, high_per_minute, max_backlog, monthly_credit_budget, budget_hard_stop,
         updated_at
       FROM teams
       ORDER BY team LIMIT $1`,
      [MAX_TEAMS],
    );
    return rows.map(toTeamRow);
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
  };
}

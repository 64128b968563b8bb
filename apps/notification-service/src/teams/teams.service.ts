import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/scopes';
import { NotFoundError } from '../common/errors/api-error';
import { MessageQueriesRepository } from '../delivery-status/message-queries.repository';
import { TeamBudgets } from './team-budgets';
import { TeamSettings, type TeamShare } from './team-settings';
import type { TeamView } from './teams.dto';
import {
  type TeamChanges,
  type TeamRow,
  TeamsRepository,
  type TeamUsage,
} from './teams.repository';

/** The most teams the list answers with (the controller says so; it reads no repository). */
export { MAX_TEAMS } from './teams.repository';

/** The window of the current share: long enough to smooth a second's jitter, short to be now. */
export const SHARE_WINDOW_SECONDS = 60;

const NO_BACKLOG = { high: 0, normal: 0, low: 0 };
const NO_USAGE: TeamUsage = { reservedCredits: 0, usedCredits: 0 };

/** What the teams' answers are made of, read once for all the teams shown. */
interface Facts {
  rows: Map<string, TeamRow>;
  share: (team: string | null) => TeamShare;
  usage: Map<string, TeamUsage>;
  days: Map<string, { day: string; usedCredits: number }[]>;
  backlog: Map<string, { high: number; normal: number; low: number }>;
  handedOver: Map<string | null, number>;
  handedOverTotal: number;
  month: string;
}

/**
 * Teams as a resource: what an admin set for each (weight, allowance, backlog cap, budget), and
 * how each is doing now (this month's credits, its unsent messages, its share of the rate).
 */
@Injectable()
export class TeamsService {
  constructor(
    private readonly teams: TeamsRepository,
    private readonly settings: TeamSettings,
    private readonly budgets: TeamBudgets,
    private readonly messages: MessageQueriesRepository,
  ) {}

  /** Every team there is (settings, keys or notifications), alphabetically, at most MAX_TEAMS. */
  async list(): Promise<TeamView[]> {
    const names = await this.teams.known();
    const facts = await this.facts(names);
    return names.map((team) => view(team, facts));
  }

  /** Admin: any team (one never set answers the defaults). Others: their own team only. */
  async get(principal: Principal, team: string): Promise<TeamView> {
    if (!principal.isAdmin && principal.team !== team) throw notFound(team);
    return view(team, await this.facts([team]));
  }

  async update(principal: Principal, team: string, changes: TeamChanges): Promise<TeamView> {
    await this.teams.upsert(team, changes, principal.keyId);
    // This instance's dispatcher and intake apply the change at once; others within the TTL.
    this.settings.invalidate();
    this.budgets.invalidate();
    return view(team, await this.facts([team]));
  }

  private async facts(names: string[]): Promise<Facts> {
    const month = currentMonth();
    const [rows, share, usage, days, backlog, handedOver] = await Promise.all([
      names.length === 1
        ? this.teams.get(names[0]).then((row) => (row ? [row] : []))
        : this.teams.all(),
      this.settings.current(),
      this.teams.usage(names, `${month}-01`),
      this.teams.dailyUsage(names, `${month}-01`),
      this.messages.backlogByTeam(names),
      this.messages.handedOverByTeam(SHARE_WINDOW_SECONDS),
    ]);
    return {
      rows: new Map(rows.map((row) => [row.team, row])),
      share,
      usage,
      days,
      backlog: new Map(backlog.map(({ team, ...counts }) => [team, counts])),
      handedOver: new Map(handedOver.map(({ team, n }) => [team, n])),
      handedOverTotal: handedOver.reduce((sum, { n }) => sum + n, 0),
      month,
    };
  }
}

function view(team: string, facts: Facts): TeamView {
  const row = facts.rows.get(team);
  const inForce = facts.share(team);
  const budget = row?.monthlyCreditBudget ?? null;
  const usage = facts.usage.get(team) ?? NO_USAGE;
  const handedOver = facts.handedOver.get(team) ?? 0;
  return {
    team,
    weight: row?.weight ?? 1,
    high_per_minute: row?.highPerMinute ?? inForce.highPerMinute,
    high_per_minute_is_default: row?.highPerMinute == null,
    max_backlog: row?.maxBacklog ?? inForce.maxBacklog,
    max_backlog_is_default: row?.maxBacklog == null,
    monthly_credit_budget: budget,
    budget_hard_stop: row?.budgetHardStop ?? false,
    usage: {
      month: facts.month,
      reserved_credits: usage.reservedCredits,
      used_credits: usage.usedCredits,
      budget_used_ratio: budgetUsedRatio(usage.usedCredits, budget),
      days: (facts.days.get(team) ?? []).map(({ day, usedCredits }) => ({
        day,
        used_credits: usedCredits,
      })),
    },
    backlog: facts.backlog.get(team) ?? NO_BACKLOG,
    current_share: facts.handedOverTotal ? round(handedOver / facts.handedOverTotal) : null,
    handed_over_last_60s: handedOver,
    updated_at: row ? row.updatedAt.toISOString() : null,
    updated_by_key: row?.updatedByKey ?? null,
  };
}

/** A budget of 0 allows nothing: it is all used from the start. */
function budgetUsedRatio(used: number, budget: number | null): number | null {
  if (budget === null) return null;
  return budget === 0 ? 1 : round(used / budget);
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** The current calendar month in UTC, as `YYYY-MM` (team_usage counts by its first day). */
function currentMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

function notFound(team: string): NotFoundError {
  return new NotFoundError('team_not_found', `No team ${team}`);
}

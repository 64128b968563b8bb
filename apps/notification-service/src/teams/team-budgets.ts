import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { MetricsService } from '../metrics/metrics.service';
import { type Refusal, type TeamBudgetRow, TeamUsageRepository } from './team-usage.repository';
import { usageMonth } from './usage-month';

/** A team's budget and credits this month, as the send path and the metrics read them. */
export interface BudgetState {
  budget: number;
  hardStop: boolean;
  reserved: number;
  used: number;
  /** used / budget (1 for a zero budget with nothing used: nothing more may go). */
  ratio: number;
}

/** What intake stores: its messages not failed at intake are the ones that will be sent. */
export interface IntakeBatch {
  notification: { team: string };
  messages: readonly { status: string; segments: number }[];
}

/** How stale the budget state may be: a raised budget releases held messages within this. */
export const BUDGET_STATE_TTL_MS = 2000;
/** How long a held message waits before its team's budget is looked at again. */
export const BUDGET_HOLD_MS = 60_000;
/** The shares of the budget at which a log line says the team crossed it (alerts: 80%, 100%). */
const ALERT_LEVELS = [0.8, 1] as const;

/**
 * Each team's monthly budget in provider credits: reserved at intake (segments × recipients),
 * refused with 402 `budget_exceeded` past a hard-stop budget, counted as used when the provider
 * reports `credits_used`, and, once used reaches a hard-stop budget, the team's waiting messages
 * are held (deferred, never lost) until the budget is raised or the UTC month turns.
 */
@Injectable()
export class TeamBudgets implements OnModuleInit {
  private readonly logger = new Logger(TeamBudgets.name);
  private rows = new Map<string, TeamBudgetRow>();
  private month = '';
  private loadedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly usage: TeamUsageRepository,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.watchTeamBudgets(async () => {
      await this.fresh();
      return [...this.rows.entries()].map(([team, row]) => ({ team, ratio: ratioOf(row) }));
    });
  }

  /**
   * Reserves `credits` for the team this month; throws 402 budget_exceeded when the team has a
   * hard-stop budget the reservation would pass. Returns the month reserved in, for release().
   */
  async reserve(team: string, credits: number): Promise<string> {
    const month = usageMonth(new Date());
    if (credits <= 0) return month;
    const refusal = await this.usage.reserve(team, month, credits);
    if (refusal) throw budgetExceeded(team, credits, refusal);
    return month;
  }

  /** Gives back credits reserved for messages that will not be sent after all. */
  async release(team: string, credits: number, month = usageMonth(new Date())): Promise<void> {
    if (credits <= 0) return;
    await this.usage.release(team, month, credits);
  }

  /**
   * Runs intake's store with the request's credits reserved first (so a refused request takes no
   * place under the per-number caps and stores nothing). `store` answers null when it stored the
   * request, or the answer of a concurrent duplicate that stored it first: the reservation is
   * then given back, as it is when the store fails, and for messages the store failed at intake
   * (over a recipient's cap).
   */
  async reserving<T>(batch: IntakeBatch, store: () => Promise<T | null>): Promise<T | null> {
    const team = batch.notification.team;
    const reserved = creditsOf(batch);
    const month = await this.reserve(team, reserved);
    let answer: T | null;
    try {
      answer = await store();
    } catch (error) {
      await this.giveBack(team, reserved, month);
      throw error;
    }
    const kept = answer === null ? creditsOf(batch) : 0;
    await this.giveBack(team, reserved - kept, month);
    return answer;
  }

  /** Adds what the provider charged for one send to the team's month (called once per send). */
  async recordUsed(team: string | null, credits: number | null | undefined): Promise<void> {
    if (team === null || !credits || credits <= 0) return;
    const month = usageMonth(new Date());
    const used = await this.usage.addUsed(team, month, credits);
    const row = this.month === month ? this.rows.get(team) : undefined;
    if (!row) return;
    row.used = Math.max(row.used, used);
    // Each send's addition is one atomic statement, so exactly one send sees each crossing.
    for (const level of ALERT_LEVELS) {
      const at = level * row.budget;
      if (used - credits < at && used >= at) {
        this.logger.warn(
          `Team ${team} has used ${used} of its ${row.budget} credits this month (${Math.round(level * 100)}% crossed)${row.hardStop && level >= 1 ? ': its messages are held and new ones refused until the budget is raised or the month turns' : ''}`,
        );
      }
    }
  }

  /** The team's budget this month, or null when it has none (read at most every 2 s). */
  async state(team: string): Promise<BudgetState | null> {
    await this.fresh();
    const row = this.rows.get(team);
    return row ? { ...row, ratio: ratioOf(row) } : null;
  }

  /**
   * When a message of the team must wait instead of being sent (a hard-stop budget used up this
   * month): until when, and the timeline details; null when it may go.
   */
  async hold(
    team: string | null,
  ): Promise<{ until: Date; details: Record<string, unknown> & { reason: string } } | null> {
    if (team === null) return null;
    const state = await this.state(team);
    if (!state || !state.hardStop || state.used < state.budget) return null;
    return {
      until: new Date(Date.now() + BUDGET_HOLD_MS),
      details: { reason: 'budget_exceeded', used_credits: state.used, budget: state.budget },
    };
  }

  /** Forgets what was read (after this instance changed a budget). */
  invalidate(): void {
    this.loadedAt = 0;
  }

  private async fresh(): Promise<void> {
    const month = usageMonth(new Date());
    if (month === this.month && Date.now() - this.loadedAt <= BUDGET_STATE_TTL_MS) return;
    this.loading ??= this.usage
      .withBudgets(month)
      .then(
        (rows) => {
          this.rows = new Map(rows.map((row) => [row.team, row]));
          this.month = month;
          this.loadedAt = Date.now();
        },
        (error: unknown) => {
          // The database away: the last state read stays (holding what was held), tried again
          // after the TTL.
          this.logger.warn(`Reading the teams' budgets failed: ${String(error)}`);
          this.loadedAt = Date.now();
        },
      )
      .finally(() => {
        this.loading = null;
      });
    await this.loading;
  }

  private async giveBack(team: string, credits: number, month: string): Promise<void> {
    await this.release(team, credits, month).catch((error: unknown) => {
      // Left reserved: the team's budget looks fuller than it is until the month turns, never
      // emptier; worth a log line, not a failed request.
      this.logger.warn(`Giving back ${credits} credits of team ${team} failed: ${String(error)}`);
    });
  }
}

/** Segments × recipients of the messages that will be sent: those intake did not fail. */
export function creditsOf(batch: IntakeBatch): number {
  let credits = 0;
  for (const m of batch.messages) if (m.status !== 'failed') credits += m.segments;
  return credits;
}

function ratioOf(row: TeamBudgetRow): number {
  if (row.budget > 0) return row.used / row.budget;
  return row.used > 0 ? Number.POSITIVE_INFINITY : 1;
}

function budgetExceeded(team: string, credits: number, refusal: Refusal): ApiError {
  const spent = Math.max(refusal.reserved, refusal.used);
  return new ApiError(
    402,
    'budget_exceeded',
    `Team ${team} has ${spent.toLocaleString('en-US')} of its ${refusal.budget.toLocaleString('en-US')} credits this month reserved or used; this request needs ${credits.toLocaleString('en-US')}`,
    {
      team,
      monthly_credit_budget: refusal.budget,
      reserved_credits: refusal.reserved,
      used_credits: refusal.used,
      requested_credits: credits,
    },
  );
}

import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MessageQueriesRepository } from '../delivery-status/message-queries.repository';
import { WITH_PROVIDER_STATUSES } from '../delivery-status/message-status';
import { DispatchService } from '../sending/dispatch.service';
import {
  CALL_WINDOW_MS,
  type CallCounts,
  ProviderGateway,
  type CircuitSnapshot,
} from '../provider';
import { PauseService } from '../sending/pause.service';
import {
  type AccountCallsView,
  type AccountCircuitView,
  type AccountStateView,
  FAILING_ERROR_RATE,
  FAILING_MIN_CALLS,
  type QueueStateView,
} from './operations.dto';

/**
 * The queue as an operator needs it. The database answers what is waiting and how fast it goes
 * (Bull only holds jobs for work due soon, so its counts miss anything scheduled later); Redis
 * answers whether sending is paused.
 */
@Injectable()
export class QueueStateService {
  constructor(
    private readonly queries: MessageQueriesRepository,
    private readonly pause: PauseService,
    private readonly dispatch: DispatchService,
    private readonly config: AppConfig,
    private readonly gateway: ProviderGateway,
  ) {}

  async state(): Promise<QueueStateView> {
    const [backlog, pause, jobs, accounts] = await Promise.all([
      this.queries.backlog(this.config.schedule.scheduleLookaheadMs),
      this.pause.state(),
      this.dispatch.counts(),
      this.accounts(),
    ]);
    return {
      ...pause,
      backlog: {
        scheduled: backlog.byStatus.scheduled,
        scheduled_due_soon: backlog.scheduledDueSoon,
        // The queue shows a claimed message apart from those still waiting.
        pending: backlog.byStatus.pending - backlog.claimed,
        pending_due: backlog.pendingDue,
        claimed: backlog.claimed,
        at_provider: WITH_PROVIDER_STATUSES.reduce((n, status) => n + backlog.byStatus[status], 0),
        oldest_pending_seconds:
          backlog.oldestPendingSeconds === null ? null : round(backlog.oldestPendingSeconds, 3),
        in_retry: backlog.inRetry,
      },
      send_rate: {
        per_second: round(backlog.handedOverLast10s / 10, 2),
        per_second_last_minute: round(backlog.handedOverLast60s / 60, 2),
        plan_limit_per_second: this.config.rateLimitPerSecond,
      },
      credits: {
        remaining: backlog.creditsRemaining,
        as_of: backlog.creditsAsOf ? backlog.creditsAsOf.toISOString() : null,
      },
      accounts,
      jobs,
    };
  }

  /**
   * Each account as the fleet sees it: rates and credits from the database, the circuit from
   * this process when it has stopped the account, else as last published by any instance (an
   * api instance sends nothing itself).
   */
  private async accounts(): Promise<AccountStateView[]> {
    const names = this.gateway.accountNames();
    const [activity, published, calls] = await Promise.all([
      this.queries.byAccount(names, this.config.legacyWebhookAccount.name),
      this.gateway.publishedCircuits().catch(() => new Map<string, CircuitSnapshot>()),
      // Redis unreachable: the counts are unknown, not zero.
      Promise.all(names.map((name) => this.gateway.recentCalls(name).catch(() => null))),
    ]);
    return this.gateway.states().map((local, i) => {
      const seen = activity[i];
      const circuit =
        local.circuit.state !== 'closed' ? local.circuit : (published.get(local.name) ?? null);
      const view = circuitView(circuit);
      const recent = callsView(calls[i]);
      const latestFailed = (calls[i]?.lastErrorAt ?? 0) > (calls[i]?.lastOkAt ?? 0);
      return {
        name: local.name,
        plan: local.plan,
        categories: local.categories ? [...local.categories] : null,
        teams: local.teams ? [...local.teams] : null,
        health: healthOf(view, recent, latestFailed),
        circuit: view,
        recent_calls: recent,
        per_second: round(seen.handedOverLast10s / 10, 2),
        per_second_last_minute: round(seen.handedOverLast60s / 60, 2),
        limit_per_second: local.limitPerSecond,
        credits: {
          remaining: seen.creditsRemaining,
          as_of: seen.creditsAsOf ? seen.creditsAsOf.toISOString() : null,
        },
      };
    });
  }
}

function callsView(counts: CallCounts | null): AccountCallsView {
  const calls = counts?.calls ?? 0;
  const failures = counts?.failures ?? 0;
  return {
    window_seconds: CALL_WINDOW_MS / 1000,
    calls,
    failures,
    error_rate: calls === 0 ? null : round(failures / calls, 3),
    last_error: counts?.lastError ?? null,
    last_error_at: counts?.lastErrorAt ? new Date(counts.lastErrorAt).toISOString() : null,
  };
}

/**
 * The verdict an operator reads first. A closed circuit does not mean a healthy provider: one
 * answer in five is enough to keep it closed while most messages wait, so the error rate counts,
 * unless the latest call went well (recovered: the window's old failures say nothing of now).
 */
function healthOf(
  circuit: AccountCircuitView,
  calls: AccountCallsView,
  latestFailed: boolean,
): AccountStateView['health'] {
  if (circuit.state !== 'closed' && circuit.reason !== 'provider_failing' && circuit.reason) {
    return 'refused';
  }
  if (circuit.state !== 'closed') return 'failing';
  if (
    latestFailed &&
    calls.calls >= FAILING_MIN_CALLS &&
    (calls.error_rate ?? 0) > FAILING_ERROR_RATE
  ) {
    return 'failing';
  }
  return 'ok';
}

function circuitView(circuit: CircuitSnapshot | null): AccountCircuitView {
  if (!circuit) {
    return {
      state: 'closed',
      reason: null,
      since: null,
      last_error: null,
      last_error_at: null,
      probe_at: null,
    };
  }
  const at = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  // A published open circuit whose probe time passed takes the next call as its probe.
  const state =
    circuit.state === 'open' && circuit.probeAt !== null && circuit.probeAt <= Date.now()
      ? 'half_open'
      : circuit.state;
  return {
    state,
    reason: circuit.reason,
    since: at(circuit.since),
    last_error: circuit.lastError,
    last_error_at: at(circuit.lastErrorAt),
    probe_at: at(circuit.probeAt),
  };
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}

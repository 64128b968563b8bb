import { Injectable } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { MessageQueriesRepository } from '../delivery-status/message-queries.repository';
import { TeamSettings } from './team-settings';

/**
 * How long a team's backlog count is reused: counting on every request would cost intake a query
 * per request; a second's staleness lets a flood overshoot the cap by a second of intake at most.
 */
const COUNT_TTL_MS = 1000;
/** What a refused caller is told to wait: the backlog drains at the send rate, not at once. */
const RETRY_AFTER_SECONDS = 30;

/**
 * The per-team backlog cap at intake: a team with more unsent messages than its cap gets 429
 * `team_backlog_full`, so one team cannot fill the store (and everyone's queue) on its own.
 */
@Injectable()
export class TeamBacklog {
  private readonly counts = new Map<string, { n: number; at: number }>();

  constructor(
    private readonly messages: MessageQueriesRepository,
    private readonly settings: TeamSettings,
  ) {}

  /** Throws 429 team_backlog_full when `adding` more messages would pass the team's cap. */
  async check(team: string, adding: number): Promise<void> {
    const { maxBacklog } = (await this.settings.current())(team);
    const unsent = await this.count(team, maxBacklog + 1);
    if (unsent + adding <= maxBacklog) return;
    throw new ApiError(
      429,
      'team_backlog_full',
      `Team ${team} has ${unsent.toLocaleString('en-US')} unsent messages, at most ${maxBacklog.toLocaleString('en-US')} (with this request's ${adding}): retry once some are sent`,
      { team, unsent, max_backlog: maxBacklog, adding, retry_after_seconds: RETRY_AFTER_SECONDS },
      { 'retry-after': String(RETRY_AFTER_SECONDS) },
    );
  }

  private async count(team: string, atMost: number): Promise<number> {
    const known = this.counts.get(team);
    if (known && Date.now() - known.at < COUNT_TTL_MS) return known.n;
    const n = await this.messages.unsentOfTeam(team, atMost);
    this.counts.set(team, { n, at: Date.now() });
    return n;
  }
}

import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { type TeamRow, TeamsRepository } from './teams.repository';

/** A team's share settings as the dispatcher and intake apply them (defaults filled in). */
export interface TeamShare {
  weight: number;
  /** High-priority messages per minute beyond which the team's `high` waits as `normal`. */
  highPerMinute: number;
  /** Unsent messages the team may have before intake answers 429 team_backlog_full. */
  maxBacklog: number;
}

/** A team's backlog cap unless an admin set another: a big campaign fits, a runaway loop not. */
export const DEFAULT_MAX_BACKLOG = 100_000;
/** How stale the settings read may be: a changed weight is in force on every instance within. */
export const TEAM_SETTINGS_TTL_MS = 2000;

/**
 * The teams' settings, read from the database at most every TEAM_SETTINGS_TTL_MS and kept: the
 * dispatcher asks for every batch it enqueues, which must not cost a query each time.
 */
@Injectable()
export class TeamSettings {
  private rows = new Map<string, TeamRow>();
  private loadedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly teams: TeamsRepository,
    private readonly config: AppConfig,
  ) {}

  /** The settings of each team, defaults for those without a row. */
  async current(): Promise<(team: string | null) => TeamShare> {
    if (Date.now() - this.loadedAt > TEAM_SETTINGS_TTL_MS) await this.reload();
    const rows = this.rows;
    const defaultHigh = Math.max(1, Math.floor((this.config.rateLimitPerSecond * 60) / 10));
    return (team) => {
      const row = team === null ? undefined : rows.get(team);
      return {
        weight: row?.weight ?? 1,
        highPerMinute: row?.highPerMinute ?? defaultHigh,
        maxBacklog: row?.maxBacklog ?? DEFAULT_MAX_BACKLOG,
      };
    };
  }

  /** Forgets what was read, so the next question reads again (after this instance changed a row). */
  invalidate(): void {
    this.loadedAt = 0;
  }

  private reload(): Promise<void> {
    this.loading ??= this.teams
      .all()
      .then(
        (rows) => {
          this.rows = new Map(rows.map((row) => [row.team, row]));
          this.loadedAt = Date.now();
        },
        () => {
          // The database away (an outage the queue outlives): the last settings read stay in
          // force, and the next question after the TTL tries again.
          this.loadedAt = Date.now();
        },
      )
      .finally(() => {
        this.loading = null;
      });
    return this.loading;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { DispatchRef } from '../delivery-status/message-row';
import type { RedisClient } from '../redis/redis-connection';
import { REDIS, redisKey } from '../redis/redis.module';
import { TeamSettings } from '../teams/team-settings';
import { ALLOWANCE_LUA, TAG_LUA } from './fair-share.lua';
import { SEND_QUEUE } from './sending.constants';

/**
 * The width of one band of Bull priorities. Each priority class (1 high … 3 low) has two bands,
 * its own and one just ahead of it for messages sent to the front (a dead worker's); a job's Bull
 * priority is its band's start plus its fair-share tag. Tags grow by at most one per message, so
 * a band lasts 10^12 messages; band 7's end (7 × 2^40) is far inside a double's exact integers.
 */
export const BAND = 2 ** 40;
const HIGH = 1;
const NORMAL = 2;
const TAG_COMMAND = 'fairShareTag';
const ALLOWANCE_COMMAND = 'fairShareAllowance';

type ScriptCall = (this: unknown, ...args: (string | number)[]) => unknown;

/** The Bull priority band of a class: its own, or the one just ahead for the front. */
export function bandOf(priority: number, front: boolean): number {
  return (priority * 2 - (front ? 1 : 0)) * BAND;
}

/**
 * Weighted fair share of the send rate between teams, within each priority: the Bull priority of
 * each job to enqueue (see fair-share.lua.ts for the tags). High priority comes first whatever
 * the team, and a team's `high` beyond its allowance per minute waits as `normal`, so marking
 * everything `high` jumps no queue.
 */
@Injectable()
export class FairShare {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly config: AppConfig,
    private readonly teams: TeamSettings,
  ) {
    redis.defineCommand(TAG_COMMAND, { numberOfKeys: 3, lua: TAG_LUA });
    redis.defineCommand(ALLOWANCE_COMMAND, { numberOfKeys: 1, lua: ALLOWANCE_LUA });
  }

  /**
   * Enqueues `refs` through `add` with their fair-share priorities, then ends the idle queue's
   * fixed virtual time of their classes (fair-share.lua.ts): their jobs are in Bull now, so the
   * head of the queue says where it stands.
   */
  async enqueue(
    refs: readonly DispatchRef[],
    front: boolean,
    add: (priorities: number[]) => Promise<unknown>,
  ): Promise<void> {
    if (refs.length === 0) return;
    await add(await this.priorities(refs, front));
    const classes = [...new Set(refs.map((ref) => ref.priority)), NORMAL];
    await this.redis.del(...classes.map((priority) => this.idleKey(priority)));
  }

  /** The Bull priority of each of `refs`, in order. Two pipelined round trips at most. */
  async priorities(refs: readonly DispatchRef[], front: boolean): Promise<number[]> {
    if (refs.length === 0) return [];
    const share = await this.teams.current();
    const classes = await this.allowHigh(refs, (team) => share(team).highPerMinute);

    // One tag request per class and team, for all its messages of this call, in their order.
    const groups = new Map<string, { priority: number; team: string; indexes: number[] }>();
    refs.forEach((ref, index) => {
      const team = teamKey(ref.team);
      const key = `${classes[index]}\u0000${team}`;
      const group = groups.get(key) ?? { priority: classes[index], team, indexes: [] };
      group.indexes.push(index);
      groups.set(key, group);
    });
    const pipeline = this.redis.pipeline();
    const tag = (pipeline as unknown as Record<string, ScriptCall>)[TAG_COMMAND];
    const steps: number[] = [];
    for (const group of groups.values()) {
      const step = 1 / share(group.team === NO_TEAM ? null : group.team).weight;
      steps.push(step);
      const band = bandOf(group.priority, false);
      tag.call(
        pipeline,
        this.priorityKey(),
        this.stateKey(group.priority),
        this.idleKey(group.priority),
        band,
        band + BAND,
        group.team,
        step,
        group.indexes.length,
      );
    }
    const replies = (await pipeline.exec()) ?? [];
    const priorities = refs.map(() => 0);
    [...groups.values()].forEach((group, g) => {
      const [error, reply] = replies[g] ?? [new Error('no reply from Redis')];
      if (error) throw error;
      const start = Number(reply);
      if (!Number.isFinite(start)) throw new Error(`Unexpected fair-share tag: ${String(reply)}`);
      group.indexes.forEach((index, i) => {
        priorities[index] = bandOf(group.priority, front) + start + (i + 1) * steps[g];
      });
    });
    return priorities;
  }

  /** Each ref's class after the high-priority allowance: `high` beyond it becomes `normal`. */
  private async allowHigh(
    refs: readonly DispatchRef[],
    allowance: (team: string | null) => number,
  ): Promise<number[]> {
    const classes = refs.map((ref) => ref.priority);
    const byTeam = new Map<string, number[]>();
    refs.forEach((ref, index) => {
      if (ref.priority !== HIGH) return;
      const list = byTeam.get(teamKey(ref.team)) ?? [];
      list.push(index);
      byTeam.set(teamKey(ref.team), list);
    });
    if (byTeam.size === 0) return classes;
    const minute = Math.floor(Date.now() / 60_000);
    const pipeline = this.redis.pipeline();
    const allow = (pipeline as unknown as Record<string, ScriptCall>)[ALLOWANCE_COMMAND];
    for (const [team, indexes] of byTeam) {
      const key = redisKey(this.config, 'fair', 'high', team, String(minute));
      allow.call(pipeline, key, allowance(team === NO_TEAM ? null : team), indexes.length);
    }
    const replies = (await pipeline.exec()) ?? [];
    [...byTeam.values()].forEach((indexes, t) => {
      const [error, reply] = replies[t] ?? [new Error('no reply from Redis')];
      if (error) throw error;
      for (const index of indexes.slice(Number(reply))) classes[index] = NORMAL;
    });
    return classes;
  }

  /** Bull's sorted set of the waiting send jobs by priority (Bull's own key). */
  private priorityKey(): string {
    return redisKey(this.config, SEND_QUEUE, 'priority');
  }

  private stateKey(priority: number): string {
    return redisKey(this.config, 'fair', 'tags', String(priority));
  }

  private idleKey(priority: number): string {
    return redisKey(this.config, 'fair', 'idle', String(priority));
  }
}

/** Messages stored before teams were kept share one name, which no team can have. */
const NO_TEAM = '~none';

function teamKey(team: string | null): string {
  return team ?? NO_TEAM;
}

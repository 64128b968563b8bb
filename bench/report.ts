/*
 * bench/RESULTS.md from one run of the suite (bench/run-all.ts): machine and conditions, the
 * target table, method and raw figures per bench, memory. The file is generated whole; what
 * people write by hand lives in bench/notes/<figure>.md (one file per figure of the target table,
 * e.g. notes/intake.md) and is copied in under "Notes and profiles", linked from its row.
 * History that no run rewrites is in bench/HISTORY.md.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BatchingResult,
  batchingLines,
  broadcastMet,
  BROADCAST_TARGET_PER_SECOND,
  ONE_BY_ONE_TARGET_FACTOR,
  oneByOneFactor,
  oneByOneMet,
} from './batching';
import { type CeilingResult, ceilingLines } from './ceiling';
import { FAILOVER_TABLE_HEADER, failoverRow, type FailoverResult } from './failover';
import { fairShareLines, type FairShareResult, rowMet as fairShareMet } from './fair-share';
import { INTAKE_TABLE_HEADER, type IntakeResult, intakeRow, WARM_UP_SECONDS } from './intake';
import { type LargeRequestResult, largeRequestLines } from './large-request';
import { type PipelineResult, pipelineLines } from './pipeline';
import { type ProtectionResult, protectionLines } from './recipient-protection';
import { type ScheduleResult, SCHEDULE_TABLE_HEADER, scheduleRow } from './schedule';
import { fmt, type Machine, type ProcessPeak } from './support';
import { type UtilisationResult, utilisationLines, utilisationMet } from './utilisation';
import {
  webhookCheckLines,
  webhookPhases,
  type WebhooksResult,
  WEBHOOK_TABLE_HEADER,
  webhookRow,
} from './webhooks';

export interface SuiteResults {
  ceiling: CeilingResult;
  intake: IntakeResult;
  'intake-x2': IntakeResult;
  'recipient-protection': ProtectionResult;
  'large-request': LargeRequestResult;
  webhooks: WebhooksResult;
  'pipeline-slow': PipelineResult;
  'pipeline-fast': PipelineResult;
  utilisation: UtilisationResult;
  batching: BatchingResult;
  'fair-share': FairShareResult;
  failover: FailoverResult;
  schedule: ScheduleResult;
}

export type StepId = keyof SuiteResults;

/** In the order the suite runs them. */
export const STEP_TITLES: Record<StepId, string> = {
  ceiling: 'bare Nest-on-Fastify ceiling',
  intake: 'intake, one api instance',
  'intake-x2': 'intake, two api instances',
  'recipient-protection': 'intake, recipient protection on vs off',
  'large-request': '1,000-recipient request',
  webhooks: 'webhooks',
  'pipeline-fast': 'sending, fast provider',
  'pipeline-slow': 'sending, 200 ms provider',
  utilisation: 'send utilisation at network latency',
  batching: 'many recipients per provider request',
  'fair-share': "teams' fair share of the send rate",
  failover: 'failover when an account runs out of credits',
  schedule: 'scheduling',
};

/** The suite's order (bench/run-all.ts): the ceiling right before the intake it is compared with. */
export const STEP_ORDER = Object.keys(STEP_TITLES) as StepId[];

export interface StepRecord<T> {
  startedAt: string;
  durationS: number;
  /** 1-minute load average just before the bench started. */
  loadBefore: number;
  result?: T;
  error?: string;
}

export type Steps = { [K in StepId]?: StepRecord<SuiteResults[K]> };

export interface SuiteSettings {
  intakeSeconds: number;
  connections: number;
  largeCount: number;
  largeWarmUp: number;
  webhookSeconds: number;
  webhookMessages: number;
  pipelineSeconds: number;
  slowLatencyMs: number;
  fastLatencyMs: number;
  scheduleCount: number;
}

export interface SuiteRun {
  startedAt: string;
  finishedAt: string;
  durationS: number;
  machine: Machine;
  settings: SuiteSettings;
  /** Benches left out of this run (`--only`). */
  skipped: StepId[];
  /** Benches run again later and merged into this run (`--only … --merge`), with when. */
  merged?: { step: StepId; at: string }[];
  steps: Steps;
}

/** One figure of the target table; `id` names its note, bench/notes/<id>.md. */
interface Target {
  id: string;
  figure: string;
  now: string;
  target: string;
  result: string;
  /** null: nothing to meet (shown for comparison); undefined: not measured in this run. */
  met: boolean | null | undefined;
}

const NOTES_DIR = join(__dirname, 'notes');

/** bench/notes/*.md by name without the extension. */
export function readNotes(dir = NOTES_DIR): Map<string, string> {
  const notes = new Map<string, string>();
  if (!existsSync(dir)) return notes;
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.md')) continue;
    notes.set(file.slice(0, -3), readFileSync(join(dir, file), 'utf8').trim());
  }
  return notes;
}

function ms(value: number): string {
  return `${fmt(value, value < 10 ? 1 : 0)} ms`;
}

function perSecond(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')}/s`;
}

function failure(record: StepRecord<unknown> | undefined): string {
  if (!record) return 'not run';
  return record.error ? `failed: ${record.error.split('\n')[0]}` : 'not run';
}

function targets(run: SuiteRun): Target[] {
  const s = run.steps;
  const rows: Target[] = [];

  const intake = s.intake?.result;
  const ceiling = s.ceiling?.result;
  {
    const ratio = intake && ceiling ? intake.load.perSecond / ceiling.load.perSecond : Number.NaN;
    rows.push({
      id: 'intake',
      figure: `intake, 1 recipient, ${run.settings.connections} connections`,
      now: "611/s, p99 149 ms (this machine's last measure before the work: 446/s, p50 104 ms, p99 179 ms)",
      target:
        '≥ 4,000/s, p99 < 25 ms, and ≥ 0.4 × a bare Nest-on-Fastify route measured in the same run',
      result: intake
        ? `${perSecond(intake.load.perSecond)}, p50 ${ms(intake.load.p50Ms)}, p99 ${ms(intake.load.p99Ms)}; ${ceiling ? `${fmt(ratio, 2)} × the bare route (${perSecond(ceiling.load.perSecond)}, p99 ${ms(ceiling.load.p99Ms)})` : `bare route ${failure(s.ceiling)}`}`
        : failure(s.intake),
      met:
        intake && ceiling
          ? intake.load.perSecond >= 4000 && intake.load.p99Ms < 25 && ratio >= 0.4
          : undefined,
    });
  }

  const two = s['intake-x2']?.result;
  rows.push({
    id: 'intake-x2',
    figure: 'intake, two api instances, same load',
    now: 'not measured',
    target: 'shown next to one instance (intake scales by adding api instances)',
    result: two
      ? `${perSecond(two.load.perSecond)}, p99 ${ms(two.load.p99Ms)}${intake ? ` = ${fmt(two.load.perSecond / intake.load.perSecond, 2)} × one instance` : ''}`
      : failure(s['intake-x2']),
    met: null,
  });

  const protection = s['recipient-protection']?.result;
  rows.push({
    id: 'recipient-protection',
    figure: 'intake with recipient protection on (defaults) vs off',
    // The first build of the protections, before the zone and offset memories (see its note).
    now: 'overhead 10.4–19.9% (off 702–860/s, on 629–689/s)',
    target: 'on stays within 10% of off (requests/s)',
    result: protection
      ? `on ${perSecond(protection.on.requestsPerSecond)} (${perSecond(protection.on.messagesPerSecond)} messages), p50 ${ms(protection.on.p50Ms)}, p95 ${ms(protection.on.p95Ms)}; off ${perSecond(protection.off.requestsPerSecond)} (${perSecond(protection.off.messagesPerSecond)} messages), p50 ${ms(protection.off.p50Ms)}, p95 ${ms(protection.off.p95Ms)}; overhead ${fmt(protection.throughputOverheadPct, 1)}%`
      : failure(s['recipient-protection']),
    met: protection ? protection.throughputOverheadPct <= 10 : undefined,
  });

  const large = s['large-request']?.result;
  rows.push({
    id: 'large-request',
    figure: 'one request with 1,000 recipients',
    now: 'not measured',
    target: '< 150 ms to the 202',
    result: large
      ? `p50 ${ms(large.p50Ms)}, p99 ${ms(large.p99Ms)}, max ${ms(large.maxMs)} (${large.timedMs.length} requests)`
      : failure(s['large-request']),
    met: large ? large.p99Ms < 150 : undefined,
  });

  const hooks = s.webhooks?.result;
  {
    const phases = hooks?.phases.filter((p) => p.phase.kind === 'first') ?? [];
    const main = phases.reduce<(typeof phases)[number] | undefined>(
      (best, p) => (best && best.phase.connections >= p.phase.connections ? best : p),
      undefined,
    );
    const exactlyOnce = hooks ? hooks.problems.length === 0 : false;
    rows.push({
      id: 'webhooks',
      figure: 'webhook events applied',
      now: '1,600–1,850/s',
      target: '≥ 5,000/s, p99 < 25 ms, every acknowledged event applied exactly once',
      result: main
        ? `${phases.map((p) => `${perSecond(p.perSecond)}, p99 ${ms(p.p99Ms)} at ${p.phase.connections} connections`).join('; ')}; exactly once: ${exactlyOnce ? 'yes' : '**no**'} (${(hooks?.check.acknowledged ?? 0).toLocaleString('en-US')} acknowledged)`
        : failure(s.webhooks),
      met: main ? main.perSecond >= 5000 && main.p99Ms < 25 && exactlyOnce : undefined,
    });
  }

  const fast = s['pipeline-fast']?.result;
  const slow = s['pipeline-slow']?.result;
  {
    const range = (p: PipelineResult): string => {
      const values = p.rows.map((r) => r.utilisation);
      return `${fmt(Math.min(...values), 3)}–${fmt(Math.max(...values), 3)}`;
    };
    const over = (p: PipelineResult): number =>
      p.rows.filter((r) => r.maxInSecond > r.limit).length;
    const limited = (p: PipelineResult): number => p.rows.reduce((n, r) => n + r.rateLimited, 0);
    const describe = (p: PipelineResult): string =>
      `${range(p)} at ${p.latencyMs} ms provider latency (bound ${fmt(p.utilisationBound, 3)}), ${limited(p)} 429s, ${over(p)} of ${p.rows.length} runs over the limit in a sliding 1 s`;
    rows.push({
      id: 'sending',
      figure: 'send utilisation, 10/s and 50/s, 1 and 2 worker processes',
      now: '0.978–0.983',
      target: '≥ 0.99, zero 429s, never over the limit in any sliding 1 s at the provider',
      result: fast
        ? `${describe(fast)}. ${slow ? `With the sandbox's default latency: ${describe(slow)}` : `200 ms provider: ${failure(s['pipeline-slow'])}`}`
        : failure(s['pipeline-fast']),
      met: fast
        ? fast.rows.every((r) => r.utilisation >= 0.99) && limited(fast) === 0 && over(fast) === 0
        : undefined,
    });
  }

  const utilisation = s.utilisation?.result;
  {
    const describe = (network: string): string => {
      const rows = utilisation?.rows.filter((r) => r.network === network) ?? [];
      if (rows.length === 0) return '';
      const values = rows.map((r) => r.utilisation);
      return `${network} ${fmt(Math.min(...values), 3)}–${fmt(Math.max(...values), 3)}`;
    };
    const measured = utilisation?.rows ?? [];
    const limited = measured.reduce((n, r) => n + r.rateLimited, 0);
    const over = measured.filter((r) => r.maxInSecond > r.limit).length;
    rows.push({
      id: 'utilisation',
      figure: 'send utilisation at network latency, 10/s and 50/s, 1 and 2 processes',
      now: '0.836 at ~200 ms (forward 60–80 ms, return 120 ms; standard, 300 messages); loopback 0.991 standard, 0.983 enterprise',
      target:
        '≥ 0.97 of the plan at 200 ms ± 20 ms, ≥ 0.99 at loopback, zero 429s, never over the limit in any sliding 1 s at the provider',
      result: utilisation
        ? `${utilisation.networks
            .map((n) => describe(n.name))
            .filter(Boolean)
            .join(
              '; ',
            )}; ${limited} 429s; ${over} of ${measured.length} runs over the limit in a sliding 1 s`
        : failure(s.utilisation),
      met: utilisation ? measured.every(utilisationMet) : undefined,
    });
  }

  const batching = s.batching?.result;
  {
    const broadcast = batching?.rows.find((r) => r.scenario.name === 'broadcast');
    const one = batching?.rows.find((r) => r.scenario.name === 'one-by-one');
    const base = batching?.rows.find((r) => r.scenario.name === 'baseline');
    const factor = batching ? oneByOneFactor(batching) : Number.NaN;
    const oneMet = batching ? oneByOneMet(batching) : undefined;
    const parts = [
      broadcast &&
        `10,000-recipient broadcast ${perSecond(broadcast.perSecond)} (${broadcast.accepted} requests, ${fmt(broadcast.perRequest.mean, 1)} recipients each, ${broadcast.perRequest.min}–${broadcast.perRequest.max}; ${broadcast.rateLimited} 429s; every recipient once: ${broadcast.missing + broadcast.duplicates === 0 ? 'yes' : '**no**'}): ${broadcastMet(broadcast) ? 'met' : '**not met**'}`,
      one &&
        `1,000 one by one ${perSecond(one.perSecond)}${base ? ` vs ${fmt(base.perSecond, 1)}/s at SEND_BATCH_MAX=1 (${base.recipients}) = ${fmt(factor, 1)} ×` : ''}: ${oneMet === undefined ? 'no baseline' : oneMet ? 'met' : '**not met**'}`,
    ].filter(Boolean);
    rows.push({
      id: 'batching',
      figure:
        'recipients per second, standard plan (10 requests/s): a 10,000-recipient broadcast; 1,000 one-recipient notifications posted one by one',
      now: 'one request per recipient: ~10/s (10,000 recipients in ~1,000 s)',
      target: `broadcast ≥ ${BROADCAST_TARGET_PER_SECOND}/s (≥ 50 recipients per request slot), zero 429s, every recipient once; one by one ≥ ${ONE_BY_ONE_TARGET_FACTOR} × SEND_BATCH_MAX=1`,
      result: parts.length ? parts.join('; ') : failure(s.batching),
      met: broadcast && oneMet !== undefined ? broadcastMet(broadcast) && oneMet : undefined,
    });
  }

  const fair = s['fair-share']?.result;
  {
    const row = (name: string) => fair?.rows.find((r) => r.scenario.name === name);
    const equal = row('equal');
    const weighted = row('weighted');
    const enterprise = row('enterprise-x2');
    const rates = fair?.rows.map((r) => r.rateWhole) ?? [];
    const describe = (r: NonNullable<typeof equal>, label: string): string =>
      `${label}: B's last at the provider ${fmt(r.bLastS, 1)} s after its post (target ${fmt(r.targetS, 1)} s; A ${r.aMessages.toLocaleString('en-US')}, FCFS would be ~${fmt(r.fcfsS)} s), B's share ${fmt(r.bShare, 3)} while both due`;
    rows.push({
      id: 'fair-share',
      figure: "teams' fair share: A's backlog, 2 s later B posts 50 normal messages",
      now: "first come, first served: B's last after all of A's (~300 s with A 3,000 at 10/s)",
      target:
        "B's last ≤ 50 / (B's share × plan) + 2 s (12 s at 10/s, 1:1); B's share 0.75 ± 0.05 at 3:1; all of A sent; send rate ≥ 0.97 of the plan",
      result: fair
        ? `${[
            equal && describe(equal, '1:1 at 10/s'),
            weighted && describe(weighted, '3:1 at 10/s'),
            enterprise && describe(enterprise, '1:1 at 50/s, two processes'),
          ]
            .filter(Boolean)
            .join(
              '; ',
            )}; send rate ${fmt(Math.min(...rates), 3)}–${fmt(Math.max(...rates), 3)} of the plan over the drain; all sent once: ${fair.rows.every((r) => r.aSent === r.aMessages && r.bSent === r.bMessages && r.duplicates === 0 && r.notDelivered === 0) ? 'yes' : '**no**'}`
        : failure(s['fair-share']),
      met: fair ? fair.rows.every(fairShareMet) : undefined,
    });
  }

  const failover = s.failover?.result;
  rows.push({
    id: 'failover',
    figure: "account A's credits run out mid-backlog: until account B carries the traffic",
    now: 'one account: sending pauses until an operator tops up',
    target: 'B takes over within a second, nothing lost, nothing twice',
    result: failover
      ? `${ms(failover.refusalToBMs)} from A's refusal to B's first send (${ms(failover.gapMs)} from A's last), B at ${fmt(failover.utilisationB, 3)} of its plan; lost ${failover.lost}, twice ${failover.duplicates}`
      : failure(s.failover),
    met: failover
      ? failover.gapMs < 1000 && failover.lost === 0 && failover.duplicates === 0
      : undefined,
  });

  const schedule = s.schedule?.result;
  {
    const staggered = schedule?.rows.filter((r) => r.test.staggered) ?? [];
    const lags = staggered.flatMap((r) => r.lags);
    const sorted = [...lags].sort((a, b) => a - b);
    const at = (p: number): number =>
      sorted.length
        ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
        : Number.NaN;
    const early = staggered.reduce((n, r) => n + r.early, 0);
    rows.push({
      id: 'schedule',
      figure: 'scheduled sends, lateness at the provider',
      now: 'p99 6 ms',
      target: 'keep p99 < 50 ms, none early',
      result: schedule
        ? `p50 ${ms(at(50))}, p99 ${ms(at(99))}, max ${ms(at(100))}, ${early} early (${lags.length} staggered messages, both plans)`
        : failure(s.schedule),
      met: schedule ? at(99) < 50 && early === 0 : undefined,
    });
  }

  const peaks = servicePeaks(run);
  const top = peaks.reduce<ProcessPeak | undefined>(
    (best, p) => (best && best.peakRssMb >= p.peakRssMb ? best : p),
    undefined,
  );
  const reference = ceiling?.processes[0];
  rows.push({
    id: 'memory',
    figure: 'peak RSS of a process under these loads',
    now: '195–254 MB',
    target: '< 200 MB',
    result: top
      ? `max ${fmt(top.peakRssMb)} MB (${top.name}), ${peaks.length} service processes${reference ? `; the bare Nest-on-Fastify app under the same harness: ${fmt(reference.peakRssMb)} MB` : ''}`
      : 'not measured',
    met: top ? top.peakRssMb < 200 : undefined,
  });
  return rows;
}

function allPeaks(run: SuiteRun): { step: StepId; peak: ProcessPeak }[] {
  return STEP_ORDER.flatMap((step) => {
    const result = run.steps[step]?.result;
    if (!result) return [];
    // Pipeline and schedule keep theirs per row (scenario, case); the others per bench.
    const peaks: ProcessPeak[] =
      'rows' in result
        ? (result.rows as { processes: ProcessPeak[] }[]).flatMap((r) => r.processes)
        : result.processes;
    return peaks.map((peak) => ({ step, peak }));
  });
}

function servicePeaks(run: SuiteRun): ProcessPeak[] {
  return allPeaks(run)
    .filter((p) => p.peak.kind === 'service')
    .map((p) => p.peak);
}

function metCell(t: Target, notes: Map<string, string>): string {
  const link = `[why](#note-${t.id})`;
  if (t.met === undefined) return '**not measured**';
  if (t.met === null) return notes.has(t.id) ? `– ([note](#note-${t.id}))` : '–';
  if (t.met) return notes.has(t.id) ? `yes ([note](#note-${t.id}))` : 'yes';
  return `**no** — ${link}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function methodAndFigures(run: SuiteRun): string[] {
  const { settings: c, steps: s } = run;
  const out: string[] = [];
  const section = (title: string, method: string, figures: () => string[], ids: StepId[]): void => {
    out.push(`### ${title}`, '', `**Method.** ${method}`, '');
    const failed = ids.filter((id) => !s[id]?.result);
    if (failed.length) {
      out.push(...failed.map((id) => `- ${STEP_TITLES[id]}: ${failure(s[id])}`), '');
    }
    if (failed.length < ids.length) out.push(...figures(), '');
  };

  section(
    'Intake, its ceiling, two instances',
    `The generator is the suite's own process: ${c.connections} keep-alive connections (node:http Agent), each a closed loop posting its next \`POST /v1/notifications\` as soon as the previous answer arrived; one recipient per request, a distinct number each time, scheduled a day ahead so no send competes. ${WARM_UP_SECONDS} s warm-up (not reported), then ${c.intakeSeconds} s measured. The service runs with \`APP_ROLE=api\` in a process of its own on a fresh database. The **ceiling** is a bare NestJS 11 + @nestjs/platform-fastify app (\`bench/ceiling-app.ts\`) with the same method, path and status answering \`{"ok":true}\`, in its own process started the same way as the service (ts-node, same sampling), loaded by the same generator with the same connections and durations, just before the intake. **Two instances**: two \`APP_ROLE=api\` processes on one database and Redis prefix; the connections are dealt to the two ports in turn (round robin, each connection stays on its port). Every 202 is checked by SQL to have stored one notification and one message. The generator shares the 2 cores with the service and PostgreSQL: its own CPU is in the table.`,
    () => {
      const lines = [...INTAKE_TABLE_HEADER];
      if (s.intake?.result) lines.push(intakeRow('one instance', s.intake.result));
      if (s['intake-x2']?.result) lines.push(intakeRow('two instances', s['intake-x2'].result));
      if (s.ceiling?.result) {
        lines.push(
          '',
          'Bare Nest-on-Fastify route (the ceiling):',
          '',
          ...ceilingLines(s.ceiling.result),
        );
      }
      return lines;
    },
    ['ceiling', 'intake', 'intake-x2'],
  );

  const protection = s['recipient-protection']?.result;
  section(
    'Intake with recipient protection on and off',
    `\`bench/recipient-protection.ts\`: two \`APP_ROLE=api\` instances, each on a fresh database and Redis prefix: one with the default protections (per-number caps, marketing quiet hours 21:00-08:00, and ${protection ? protection.suppressionEntries.toLocaleString('en-US') : '10,000'} live suppression entries inserted by SQL, 70% scope marketing, 30% all), one with \`RECIPIENT_CAP_*=0\`, \`QUIET_HOURS_*=off\` and no suppression entries. Both get the same request sequence over ${protection?.connections ?? c.connections} keep-alive closed-loop connections: 40% one-time codes to 1 number, 40% transactional to 2, 20% marketing to 5; numbers of the US, Germany, France, Australia and Japan in turn (the US and Australia have several zones); \`timezone\` on every third request; one number of every tenth transactional or marketing request from the suppression list; all due now, so the cap counts them at intake. A ${WARM_UP_SECONDS} s warm-up per instance, then ${protection?.rounds ?? 3} rounds of ${protection?.seconds ?? 8} s per instance, the order swapped each round. How many marketing messages quiet hours defer depends on the hour of the run. SQL checks that every 202 stored its notification and all its messages, that some messages were suppressed with the protections on and none failed with them off.`,
    () => (protection ? protectionLines(protection) : []),
    ['recipient-protection'],
  );

  section(
    '1,000-recipient request',
    `One \`APP_ROLE=api\` instance on a fresh database. ${c.largeWarmUp} warm-up requests, then ${c.largeCount} requests one after another over one keep-alive connection, each with 1,000 distinct recipients scheduled a day ahead; the time is from writing the request to the end of its 202 answer. With ${c.largeCount} samples the p99 (nearest rank) is the maximum. SQL checks that every 202 stored its notification and its 1,000 messages.`,
    () => (s['large-request']?.result ? largeRequestLines(s['large-request'].result) : []),
    ['large-request'],
  );

  const phases = webhookPhases(c.webhookSeconds)
    .map((p) => `${p.name} × ${p.connections} for ${p.seconds} s`)
    .join(', ');
  section(
    'Webhooks',
    `One \`APP_ROLE=api\` instance. ${c.webhookMessages.toLocaleString('en-US')} messages inserted by SQL as \`queued\` with distinct provider ids; their \`message.delivered\` events signed beforehand with \`generateTestWebhook()\`, then posted to \`POST /v1/webhooks/sms-provider\` by closed loops over keep-alive connections from the suite's process. Phases: ${phases}; the warm-up is not reported. The table's figure is the first-delivery phase with the most connections. Afterwards SQL checks that every message whose event got a 2xx is \`delivered\` with exactly one \`delivered\` timeline row, and the others untouched. CPU per phase from /proc: service, generator, the database's PostgreSQL backends, the whole box.`,
    () => {
      const r = s.webhooks?.result;
      if (!r) return [];
      return [...WEBHOOK_TABLE_HEADER, ...r.phases.map(webhookRow), '', ...webhookCheckLines(r)];
    },
    ['webhooks'],
  );

  section(
    'Sending',
    `\`bench/pipeline.ts\`, four scenarios: the standard plan (10/s) and the enterprise plan (50/s), each with one service process (\`APP_ROLE=all\`) and with two (\`all\` + an \`APP_ROLE=worker\`), on one database, Redis prefix and sandbox; default service settings but one recipient per provider request (\`SEND_BATCH_MAX=1\`: the backlog shares one text, which batching would send as a few requests of 100; the figure is requests per second). Per scenario a fresh sandbox in its own process (ahead in the scheduler), a trickle of single-recipient requests at 30% of the limit for 3 s, then a backlog of ${c.pipelineSeconds} s worth of the limit (${10 * c.pipelineSeconds} / ${50 * c.pipelineSeconds} messages) posted in requests of up to 1,000 recipients, drained until every message is final. From the sandbox's request log: utilisation = (sends − 1) / (last − first backlog send) ÷ limit, 429s, the most requests in any sliding 1 s. Run twice: with the sandbox answering after ${c.slowLatencyMs} ms (its default in these benches) and after ${c.fastLatencyMs} ms (a fast provider). The throttle counts a call from when it is made until the provider answered it, plus the 1 s window (the provider may stamp a call anywhere between our send and its answer), so \`limit\` calls take a second plus one response time and utilisation is bounded by min(safety factor, 1000 / (1000 + latency)); the table's result is the fast provider's.`,
    () => {
      const lines: string[] = [];
      for (const id of ['pipeline-fast', 'pipeline-slow'] as const) {
        const r = s[id]?.result;
        if (!r) continue;
        lines.push(`Provider latency **${r.latencyMs} ms**:`, '', ...pipelineLines(r), '');
      }
      return lines;
    },
    ['pipeline-fast', 'pipeline-slow'],
  );

  section(
    'Send utilisation at network latency',
    `\`bench/utilisation.ts\`: the sandbox plays the network (\`forward_delay_ms\`, \`return_delay_ms\`): it counts and logs a request only once it has arrived, so its request log is the provider's own count, somewhere inside the round trip the service sees. Per network (loopback; ~200 ms with 20 ms jitter: forward 60–80 ms, return 120 ms; 200 ± 20 ms: forward 80–120 ms, return 100 ms), plan (10/s, 50/s) and process count (\`all\`, \`all\` + \`worker\`): a fresh sandbox process, database, Redis prefix and service processes, a warm-up of 80 messages (the throttle keeps 64 round trips, through an hour of idleness), then a backlog of ${s.utilisation?.result?.seconds ?? 15} s worth of the limit in requests of up to 1,000 recipients, drained until every message is final. Utilisation = (sends − 1) / (last − first backlog send) ÷ limit from the sandbox's log; 429s and the most requests of the key in any sliding 1 s over the whole run; the throttle's counters from each process's \`/metrics\`. Each scenario waits (up to 3 min) for the 1-minute load average to drop below 2 and records it.`,
    () => (s.utilisation?.result ? utilisationLines(s.utilisation.result) : []),
    ['utilisation'],
  );

  section(
    'Many recipients per provider request',
    `\`bench/batching.ts\`: per scenario a fresh sandbox (${s.batching?.result?.latencyMs ?? 200} ms latency), database, Redis prefix and one \`APP_ROLE=all\` process on the standard plan (10 requests/s), default settings (SEND_BATCH_MAX 100, SEND_BATCH_WINDOW_MS 250) but for the baseline; one warm-up message of another text. **broadcast**: 10 notifications × 1,000 recipients of one template and the same variables, posted together (10 concurrent POSTs). **one-by-one**: 1,000 one-recipient notifications of the same template and variables, posted one by one by ${s.batching?.result?.posters ?? 8} concurrent posters as fast as answered. **baseline**: the same one-by-one posting at SEND_BATCH_MAX=1 (one request per message: the service before batching), fewer notifications. Recipients per second = recipients ÷ (the last recipient's arrival at the provider − the first POST); arrivals from the sandbox's request log (one entry per HTTP request), recipients per request from its admin view (one row per recipient, a request's rows sharing one message id); every recipient checked at the provider exactly once and delivered. Each scenario waits (up to 3 min) for the 1-minute load average to drop below 2 and records it.`,
    () => (s.batching?.result ? batchingLines(s.batching.result) : []),
    ['batching'],
  );

  section(
    "Teams' fair share",
    `\`bench/fair-share.ts\`: per scenario a fresh sandbox (${s['fair-share']?.result?.latencyMs ?? 2} ms latency), database, Redis prefix and service processes; two keys of teams \`team-a\` and \`team-b\`, weights set by SQL in \`teams\` (read by the service within 2 s); one recipient per provider request (\`SEND_BATCH_MAX=1\`: the shares are of requests). Team A posts its backlog of normal messages in requests of 100 recipients; 2 s after A's first POST, team B posts 50 in one request. Everything drains until final (delivered through the sandbox's webhooks). From the sandbox's request log: B's first and last arrival after B's POST left; B's share = B's sends ÷ all sends from B's first to its last arrival; the send rate over the whole drain ((sends − 1) ÷ (last − first)) and its lowest over windows of 50 sends' worth (5 s at 10/s, 1 s at 50/s), over the drain and while both were due; arrivals per second while both were due. Scenarios: standard plan (10/s), one process, 1:1 and 3:1 (B 3); enterprise plan (50/s), two processes (\`all\` + \`worker\`), 1:1. A's backlog is 1,000 at 10/s (the issue's 3,000 would take 5 min per scenario; B's target does not depend on it while A is still due) and 3,000 at 50/s. Each scenario waits (up to 2 min) for the 1-minute load average to drop below 1.5 and records it.`,
    () => (s['fair-share']?.result ? fairShareLines(s['fair-share'].result) : []),
    ['fair-share'],
  );

  section(
    'Failover between provider accounts',
    `\`bench/failover.ts\`: one sandbox process (${s.failover?.result?.latencyMs ?? 200} ms latency) holding two keys on the standard plan (10 requests/s): A with ${s.failover?.result?.creditsA ?? 100} credits, B with plenty; one \`APP_ROLE=all\` process with \`SMS_PROVIDER_ACCOUNTS\` = [A, B] and one recipient per request (\`SEND_BATCH_MAX=1\`). ${s.failover?.result?.messages ?? 300} messages posted at once, drained until final. From the sandbox's request log per key: A's last accepted send, its first refusal (402 \`insufficient_credits\`), B's first accepted send, each account's rate ((sends − 1) ÷ (last − first) ÷ 10); every recipient checked at the provider exactly once across both keys and delivered.`,
    () => (s.failover?.result ? [...FAILOVER_TABLE_HEADER, failoverRow(s.failover.result)] : []),
    ['failover'],
  );

  section(
    'Scheduling',
    `\`bench/schedule.ts\`: per row a fresh sandbox (200 ms latency), database and one \`APP_ROLE=all\` process; ${c.scheduleCount} single-recipient notifications with \`scheduled_at\` spread evenly 2–10 s after the start of posting (within either budget), on each plan, and a burst of ${c.scheduleCount} all at +5 s on the enterprise plan (spread over ~1 s by the budget itself, late by design: not part of the target). Lateness = arrival in the sandbox's request log − \`scheduled_at\`; early = negative.`,
    () => {
      const r = s.schedule?.result;
      return r ? [...SCHEDULE_TABLE_HEADER, ...r.rows.map(scheduleRow)] : [];
    },
    ['schedule'],
  );

  out.push(
    '### Memory',
    '',
    '**Method.** Every process the benches start samples its own RSS every 200 ms from start to the end of its load (`measure` in tools/stack, read over IPC); the peak is the highest sample. `service` processes are the notification service and what the < 200 MB target is about; the sandbox and the bare Nest app are for comparison. All of them run from source under ts-node (transpile-only), which keeps the TypeScript compiler loaded in every process. Highest service process per bench:',
    '',
  );
  const peaks = allPeaks(run);
  for (const step of STEP_ORDER) {
    const mine = peaks.filter((p) => p.step === step && p.peak.kind === 'service');
    if (mine.length === 0) continue;
    const top = mine.reduce((best, p) => (p.peak.peakRssMb > best.peak.peakRssMb ? p : best));
    out.push(`- ${STEP_TITLES[step]}: ${fmt(top.peak.peakRssMb)} MB (${top.peak.name})`);
  }
  const service = peaks.filter((p) => p.peak.kind === 'service');
  if (service.length) {
    const top = service.reduce((best, p) => (p.peak.peakRssMb > best.peak.peakRssMb ? p : best));
    out.push(`- **overall: ${fmt(top.peak.peakRssMb)} MB** (${top.peak.name})`);
  }
  out.push(
    '',
    'Every process:',
    '',
    '| bench | process | kind | peak RSS MB | heap used after GC MB |',
    '|---|---|---|---:|---:|',
  );
  for (const { step, peak } of peaks) {
    out.push(
      `| ${STEP_TITLES[step]} | ${peak.name} | ${peak.kind} | ${fmt(peak.peakRssMb)} | ${peak.heapUsedMb === undefined ? '–' : fmt(peak.heapUsedMb)} |`,
    );
  }
  out.push('');
  return out;
}

const SCRIPTS: [string, string, string][] = [
  [
    '`bench/run-all.ts`',
    'the suite: everything below marked "suite", then this file',
    '`npm run bench`',
  ],
  [
    '`bench/intake.ts`',
    'suite: `POST /v1/notifications` per second, one api instance or two',
    '`… bench/intake.ts [--instances 2] [--profile]`',
  ],
  [
    '`bench/ceiling.ts`',
    'suite: the same load against a bare Nest-on-Fastify route',
    '`… bench/ceiling.ts`',
  ],
  [
    '`bench/recipient-protection.ts`',
    'suite: intake with the recipient protections on (defaults, 10,000 suppression entries) and off',
    '`… bench/recipient-protection.ts [--profile]`',
  ],
  [
    '`bench/large-request.ts`',
    'suite: one request with 1,000 recipients, time to its 202',
    '`… bench/large-request.ts`',
  ],
  ['`bench/webhooks.ts`', 'suite: provider webhooks applied per second', '`… bench/webhooks.ts`'],
  [
    '`bench/pipeline.ts`',
    'suite: end-to-end sending at 10/s and 50/s, 1–2 processes',
    '`… bench/pipeline.ts [standard] [standard-x2] [enterprise] [enterprise-x2]`',
  ],
  [
    '`bench/utilisation.ts`',
    'suite: send utilisation with the provider a network away (loopback, ~200 ms with 20 ms jitter, 200 ± 20 ms), 10/s and 50/s, 1–2 processes',
    '`… bench/utilisation.ts [loopback] [rtt200] [rtt200pm20]`',
  ],
  [
    '`bench/batching.ts`',
    'suite: recipients per second with many recipients per provider request: a 10,000-recipient broadcast, 1,000 one-recipient notifications posted one by one, and that posting at SEND_BATCH_MAX=1',
    '`… bench/batching.ts [broadcast] [one-by-one] [baseline]`',
  ],
  [
    '`bench/fair-share.ts`',
    "suite: teams' fair share: B's 50 messages behind A's backlog, 1:1 and 3:1 at 10/s, 1:1 at 50/s with two processes",
    '`… bench/fair-share.ts [equal] [weighted] [enterprise-x2]`',
  ],
  [
    '`bench/failover.ts`',
    "suite: account A's credits run out mid-backlog; until account B carries the traffic",
    '`… bench/failover.ts`',
  ],
  [
    '`bench/schedule.ts`',
    'suite: how late scheduled messages reach the provider',
    '`… bench/schedule.ts`',
  ],
  [
    '`bench/throttle.ts`',
    'separate: the shared limiter alone, 1–4 processes (~96 s)',
    '`npx ts-node --transpile-only bench/throttle.ts`',
  ],
  [
    '`bench/crash-recovery.ts`',
    'separate: `kill -9` of a sending instance mid-backlog (~4 min)',
    '`… bench/crash-recovery.ts [runs]`',
  ],
  [
    '`bench/abuse.ts`',
    "separate: a valid caller's latency while four clients send 1 MB bad-key bodies, and the idle connections one address can hold (~75 s; figures in the abuse note)",
    '`… bench/abuse.ts [--profile]`',
  ],
  [
    '`bench/large-report.ts`',
    'separate: the largest allowed delivery report and a refused one, with the event-loop stall (~40 s; figures in the large-report note)',
    '`… bench/large-report.ts`',
  ],
];

/** The whole of bench/RESULTS.md. */
export function renderResults(run: SuiteRun, notes: Map<string, string> = readNotes()): string {
  const m = run.machine;
  const rows = targets(run);
  const out: string[] = [
    '# Benchmark results',
    '',
    `<!-- Generated by \`npm run bench\` (bench/run-all.ts, bench/report.ts) from bench/results.json and bench/notes/*.md. Edits here are lost at the next run: write explanations in bench/notes/<figure>.md and run \`npm run bench -- --report-only\`. -->`,
    '',
    `Measured ${run.startedAt.replace('T', ' ').slice(0, 19)} – ${run.finishedAt.slice(11, 19)} UTC by \`npm run bench\` in ${fmt(run.durationS / 60, 1)} min. Benchmarks, not tests: they print numbers; they fail (non-zero exit) only when a correctness check (lost or duplicate rows) fails. Earlier measurements and diagnoses: [HISTORY.md](HISTORY.md). How to run each script: [README.md](README.md).`,
    '',
    '| script | what | how to run (`…` = `npx ts-node --transpile-only -r tsconfig-paths/register`) |',
    '|---|---|---|',
    ...SCRIPTS.map(([script, what, how]) => `| ${script} | ${what} | ${how} |`),
    '',
    '## Machine and conditions',
    '',
    `- CPU: ${m.cpuModel}, \`nproc\` = ${m.nproc}; RAM ${fmt(m.memoryGiB, 1)} GiB.`,
    `- Node ${m.node}; PostgreSQL ${m.postgres}; Redis ${m.redis}; all on 127.0.0.1.`,
    "- Everything shares the same cores: service, sandbox, PostgreSQL, Redis and the load generator (the suite's own process). Other work on the box shows as the load average before each bench.",
    '',
    ...(run.merged?.length
      ? [
          `Run again later and merged in (\`--only … --merge\`): ${run.merged.map((m) => `${STEP_TITLES[m.step]} (${m.at.replace('T', ' ').slice(0, 16)} UTC)`).join(', ')}.`,
          '',
        ]
      : []),
    '| bench | started (UTC) | took s | load avg 1 min before | outcome |',
    '|---|---|---:|---:|---|',
  ];
  for (const id of Object.keys(STEP_TITLES) as StepId[]) {
    const record = run.steps[id];
    if (!record) {
      out.push(`| ${STEP_TITLES[id]} | – | – | – | not run |`);
      continue;
    }
    const problems = (record.result as { problems?: string[] } | undefined)?.problems ?? [];
    const outcome = record.error
      ? `**failed**: ${cell(record.error.split('\n')[0])}`
      : problems.length
        ? `**check failed**: ${cell(problems.join('; '))}`
        : 'ok';
    out.push(
      `| ${STEP_TITLES[id]} | ${record.startedAt.slice(0, 10) === run.startedAt.slice(0, 10) ? record.startedAt.slice(11, 19) : record.startedAt.replace('T', ' ').slice(0, 19)} | ${fmt(record.durationS)} | ${fmt(record.loadBefore, 2)} | ${outcome} |`,
    );
  }
  out.push(
    '',
    '## Targets',
    '',
    'One instance, `APP_ROLE=api` for intake and webhooks, this machine, everything local. "now" is the figure before the speed work.',
    '',
    '| figure | now | target | result | met? |',
    '|---|---|---|---|---|',
    ...rows.map(
      (t) =>
        `| ${cell(t.figure)} | ${cell(t.now)} | ${cell(t.target)} | ${cell(t.result)} | ${metCell(t, notes)} |`,
    ),
    '',
    '## Notes and profiles',
    '',
    'Hand-written, one file per figure in `bench/notes/` (`intake.md`, `intake-x2.md`, `recipient-protection.md`, `large-request.md`, `webhooks.md`, `sending.md`, `utilisation.md`, `batching.md`, `fair-share.md`, `failover.md`, `schedule.md`, `memory.md`): what a profile shows, why a target is missed, what was tried. The generator copies them here unchanged.',
    '',
  );
  const ids = new Set(rows.map((t) => t.id));
  for (const t of rows) {
    const note = notes.get(t.id);
    if (!note && t.met !== false) continue;
    out.push(`<a id="note-${t.id}"></a>`, '', `### ${t.figure}`, '');
    out.push(
      note ??
        `_Missed in this run, and no explanation written yet: add \`bench/notes/${t.id}.md\` (the profile and what it shows), then \`npm run bench -- --report-only\`._`,
      '',
    );
  }
  for (const [id, note] of notes) {
    if (ids.has(id)) continue;
    out.push(`<a id="note-${id}"></a>`, '', `### ${id}`, '', note, '');
  }
  out.push('## Method and raw figures', '', ...methodAndFigures(run));
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

/** One line per bench for the terminal, once it has run. */
export function summaryLine(id: StepId, result: SuiteResults[StepId]): string {
  switch (id) {
    case 'ceiling':
    case 'intake':
    case 'intake-x2': {
      const { load } = result as CeilingResult | IntakeResult;
      return `${perSecond(load.perSecond)}, p50 ${ms(load.p50Ms)}, p99 ${ms(load.p99Ms)}, ${load.other} non-202`;
    }
    case 'recipient-protection': {
      const r = result as ProtectionResult;
      return `on ${perSecond(r.on.requestsPerSecond)}, p95 ${ms(r.on.p95Ms)}; off ${perSecond(r.off.requestsPerSecond)}, p95 ${ms(r.off.p95Ms)}; overhead ${fmt(r.throughputOverheadPct, 1)}%`;
    }
    case 'large-request': {
      const r = result as LargeRequestResult;
      return `p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}, max ${ms(r.maxMs)}`;
    }
    case 'webhooks': {
      const r = result as WebhooksResult;
      return r.phases
        .map(
          (p) =>
            `${p.phase.kind} × ${p.phase.connections}: ${perSecond(p.perSecond)}, p99 ${ms(p.p99Ms)}`,
        )
        .join('; ');
    }
    case 'pipeline-slow':
    case 'pipeline-fast': {
      const r = result as PipelineResult;
      return r.rows
        .map(
          (row) =>
            `${row.scenario.name} ${fmt(row.utilisation, 3)} (429s ${row.rateLimited}, max ${row.maxInSecond}/s)`,
        )
        .join(', ');
    }
    case 'utilisation': {
      const r = result as UtilisationResult;
      return r.rows
        .map(
          (row) =>
            `${row.network} ${row.plan} ×${row.instances} ${fmt(row.utilisation, 3)} (429s ${row.rateLimited}, max ${row.maxInSecond}/s)`,
        )
        .join(', ');
    }
    case 'batching': {
      const r = result as BatchingResult;
      return r.rows
        .map(
          (row) =>
            `${row.scenario.name} ${fmt(row.perSecond, 1)} recipients/s (${row.accepted} requests, ${fmt(row.perRequest.mean, 1)} each, 429s ${row.rateLimited})`,
        )
        .join(', ');
    }
    case 'fair-share': {
      const r = result as FairShareResult;
      return r.rows
        .map(
          (row) =>
            `${row.scenario.name}: B's last ${fmt(row.bLastS, 1)} s (target ${fmt(row.targetS, 1)}), share ${fmt(row.bShare, 3)}, rate ${fmt(row.rateWhole, 3)}`,
        )
        .join('; ');
    }
    case 'failover': {
      const r = result as FailoverResult;
      return `B's first send ${ms(r.refusalToBMs)} after A's refusal, B ${fmt(r.utilisationB, 3)} of its plan, lost ${r.lost}, twice ${r.duplicates}`;
    }
    case 'schedule': {
      const r = result as ScheduleResult;
      return r.rows
        .map((row) => `${row.test.plan} ${row.test.name}: p99 ${ms(row.p99Ms)}, ${row.early} early`)
        .join('; ');
    }
  }
}

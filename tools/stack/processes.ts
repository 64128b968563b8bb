import { type ChildProcess, fork, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import ts from 'typescript';
import {
  resolveSandboxConfig,
  type SandboxConfig,
  type SandboxOverrides,
} from '../../apps/sms-provider-sandbox/src/config';
import { answers } from './http';
import { nextMessage } from './ipc';
import { freePort } from './ports';
import { waitFor } from './wait';

const ROOT = join(__dirname, '..', '..');

export const SERVICE_ENTRY = 'apps/notification-service/src/main.ts';
export const SANDBOX_ENTRY = 'apps/sms-provider-sandbox/src/main.ts';

/**
 * Straight from source (transpile only, path aliases via tsconfig-paths): works on a fresh clone
 * after `npm ci`, and never runs a stale `dist/`.
 */
const TS_NODE = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];

/** Only what a Node process needs to run: the apps' settings are all given explicitly. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * Puts a provider sandbox process ahead of ours in the scheduler. The provider runs on its own
 * machine, where our processes cannot take its CPU; here they share two cores, and a sandbox left
 * waiting for one stamps arrivals tens of milliseconds late. Ahead of our processes, its clock is
 * closer to what a provider would see. Without the privilege (not root), it keeps the default.
 */
export function runProviderAhead(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, -10);
  } catch {
    // EACCES: keep the default priority.
  }
}

// ---------------------------------------------------------------------------------------------
// An entry point of this repository as a plain child process (what an operator would run)
// ---------------------------------------------------------------------------------------------

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** Where its output goes; without one it is kept in memory for output(). */
  logPath?: string;
  /** Resolves once the process has exited, whatever the reason. */
  exited: Promise<void>;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

export function startTsProcess(options: {
  name: string;
  entry: string;
  env: Record<string, string>;
  logPath?: string;
}): ManagedProcess {
  const { logPath } = options;
  const fd = logPath === undefined ? undefined : openSync(logPath, 'w');
  const child = spawn(process.execPath, [...TS_NODE, options.entry], {
    cwd: ROOT,
    env: { ...baseEnv(), ...options.env },
    // Same process group as ours: a Ctrl-C in the terminal reaches the children too.
    stdio: fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
  });
  // The child holds its own copy of the descriptor.
  if (fd !== undefined) closeSync(fd);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    // spawn() failures (e.g. no such binary) emit 'error' and never 'exit'.
    child.once('error', () => resolve());
  });
  return {
    name: options.name,
    child,
    logPath,
    exited,
    output: () => (logPath === undefined ? output : readLog(logPath)),
  };
}

export function hasExited(proc: ManagedProcess): boolean {
  return proc.child.exitCode !== null || proc.child.signalCode !== null;
}

export function describeExit(proc: ManagedProcess): string {
  const { exitCode, signalCode } = proc.child;
  return signalCode !== null ? `killed by ${signalCode}` : `exited with code ${String(exitCode)}`;
}

/**
 * Sends `signal` (SIGTERM: the apps shut down gracefully on it) and waits for the exit; SIGKILL
 * when that takes longer than `graceMs`. Says how it ended.
 */
export async function stopProcess(
  proc: ManagedProcess,
  { signal = 'SIGTERM', graceMs = 10_000 }: { signal?: NodeJS.Signals; graceMs?: number } = {},
): Promise<string> {
  if (hasExited(proc) || proc.child.pid === undefined) return 'not running';
  proc.child.kill(signal);
  const stoppedInTime = await Promise.race([
    proc.exited.then(() => true),
    // Unreferenced: a timer must not keep the caller alive after the child is gone.
    delay(graceMs, false, { ref: false }),
  ]);
  if (stoppedInTime) return 'stopped';
  proc.child.kill('SIGKILL');
  await proc.exited;
  return `killed (no exit within ${graceMs} ms of ${signal})`;
}

/** Waits until `url` answers 200; a process that exits meanwhile fails the wait at once. */
export async function waitUntilAnswers(
  proc: ManagedProcess,
  url: string,
  { timeoutMs = 60_000, intervalMs = 200 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  await waitFor(
    async () => {
      if (hasExited(proc)) {
        const said = proc.logPath === undefined ? `:\n${proc.output()}` : '';
        throw new Error(`${proc.name} ${describeExit(proc)} during start-up${said}`);
      }
      return answers(url);
    },
    { timeoutMs, intervalMs, what: `${proc.name} to answer ${url}` },
  );
}

export interface ServiceProcess extends ManagedProcess {
  url: string;
  /** SIGKILL by default: what a crash test wants. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs the notification service's real entry point as a separate process, configured by `env`
 * alone (e.g. for crash tests: a SIGKILL must hit a process, not a module in the caller's own).
 * Resolves once /health/ready (database and Redis) answers 200.
 */
export async function spawnService(
  env: Record<string, string>,
  options: { logPath?: string; timeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const proc = startTsProcess({ name: 'service', entry: SERVICE_ENTRY, env, ...options });
  const url = `http://127.0.0.1:${env.PORT}`;
  try {
    await waitUntilAnswers(proc, `${url}/health/ready`, { timeoutMs: options.timeoutMs });
  } catch (error) {
    proc.child.kill('SIGKILL');
    throw error;
  }
  return {
    ...proc,
    url,
    kill: async (signal = 'SIGKILL') => {
      await stopProcess(proc, { signal });
    },
  };
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// The service or the sandbox in a forked child that answers over IPC (tools/stack/app-child.ts)
// ---------------------------------------------------------------------------------------------

export interface ProcessStats {
  rssMb: number;
  heapUsedMb: number;
  /** Highest RSS sampled every 200 ms since start (with `measure`; else the RSS now). */
  peakRssMb: number;
  /** CPU time used since start (user + system), ms. */
  cpuMs: number;
  /** How late a 10 ms timer fired since the previous stats() call, ms (zeros without `measure`). */
  loopDelay: { p50: number; p99: number; max: number };
}

export type AppKind = 'service' | 'sandbox' | 'module';

/**
 * A module the child loads when no app of the repository fits (a benchmark's reference server):
 * it exports `start(options)` resolving to its URL and a `close()`.
 */
export interface ModuleSettings {
  /** Absolute path of the module. */
  path: string;
  options: object;
}

/** argv[2] of the child, as JSON. */
export interface AppChildArgs {
  kind: AppKind;
  /** The service's environment, the sandbox's overrides, or ModuleSettings. */
  settings: object;
  measure: boolean;
  /** The compiled service's source root (dist/…/src), for a compiled child. */
  compiledRoot?: string;
}

export type ToAppChild = { type: 'stats'; gc: boolean } | { type: 'stop' };
export type FromAppChild =
  | { type: 'ready'; url: string; adminUrl: string }
  | { type: 'failed'; error: string }
  | { type: 'stats'; stats: ProcessStats }
  | { type: 'stopped' };

export interface ForkedApp {
  url: string;
  child: ChildProcess;
  /** `gc`: a full garbage collection first, so heap and RSS show what is retained. */
  stats(gc?: boolean): Promise<ProcessStats>;
  close(): Promise<void>;
}

export interface ForkOptions {
  /**
   * For benchmarks: sample RSS and the event-loop delay, and allow a forced GC. Off by default, as
   * the sampling timers would add wake-ups to the process a timing test is judging.
   */
  measure?: boolean;
  /** More Node flags for the child, e.g. `--cpu-prof` (a profile is written when it stops). */
  execArgv?: string[];
  /**
   * Run the service as production does, compiled (`npm run build` first) with plain `node`: no
   * TypeScript compiler in the process, so its memory and CPU are what a deployment would see.
   */
  compiled?: boolean;
}

const APP_CHILD = join(__dirname, 'app-child.ts');
const COMPILED_SERVICE_ROOT = join(
  ROOT,
  'dist/apps/notification-service/apps/notification-service/src',
);
const COMPILED_APP_CHILD = join(ROOT, 'dist/tools/stack/app-child.js');

function compiledServiceRoot(): string {
  if (!existsSync(join(COMPILED_SERVICE_ROOT, 'bootstrap.js'))) {
    throw new Error(`No compiled service in ${COMPILED_SERVICE_ROOT}: run npm run build first`);
  }
  return COMPILED_SERVICE_ROOT;
}

/**
 * app-child.ts as plain JavaScript beside dist/, so a compiled service's process loads no
 * TypeScript at all (its imports of the kit are types only). Written again each time: cheap,
 * and never stale.
 */
function compiledAppChild(): string {
  const output = ts.transpileModule(readFileSync(APP_CHILD, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  mkdirSync(dirname(COMPILED_APP_CHILD), { recursive: true });
  writeFileSync(COMPILED_APP_CHILD, output);
  return COMPILED_APP_CHILD;
}

async function forkApp(
  kind: AppKind,
  settings: object,
  { measure = false, execArgv = [], compiled = false }: ForkOptions,
): Promise<ForkedApp & { adminUrl: string }> {
  const args: AppChildArgs = { kind, settings, measure };
  if (compiled) args.compiledRoot = compiledServiceRoot();
  // Settings through argv: a message sent before the child has loaded would be lost.
  const child = fork(compiled ? compiledAppChild() : APP_CHILD, [JSON.stringify(args)], {
    execArgv: [...(measure ? ['--expose-gc'] : []), ...execArgv, ...(compiled ? [] : TS_NODE)],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (kind === 'sandbox') runProviderAhead(child.pid);
  const ready = await nextMessage<FromAppChild>(child, ['ready', 'failed'], 60_000).catch(
    (error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    },
  );
  if (ready.type !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(
      `${kind} process failed to start: ${ready.type === 'failed' ? ready.error : ''}`,
    );
  }
  return {
    url: ready.url,
    adminUrl: ready.adminUrl,
    child,
    stats: async (gc = false) => {
      const reply = nextMessage<FromAppChild>(child, ['stats'], 10_000);
      child.send({ type: 'stats', gc } satisfies ToAppChild);
      const message = await reply;
      if (message.type !== 'stats') throw new Error('unexpected reply');
      return message.stats;
    },
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.connected) child.send({ type: 'stop' } satisfies ToAppChild);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The notification service (startApp with loadConfig(env)) in a child process of its own. */
export async function forkService(
  env: Record<string, string>,
  options: ForkOptions = {},
): Promise<ForkedApp> {
  const { adminUrl: _none, ...app } = await forkApp('service', env, options);
  return app;
}

export interface SandboxProcess extends ForkedApp {
  /** http://127.0.0.1:<port>/__admin */
  adminUrl: string;
  port: number;
  /** The configuration in effect (defaults filled in). */
  config: SandboxConfig;
}

/**
 * The provider sandbox in a child process of its own, on a free port: the real provider is
 * another machine, and its arrival stamps must not wait on the event loop of the process under
 * test. Same shape as an in-process sandbox (RunningSandbox), plus stats().
 */
export async function forkSandbox(
  overrides: SandboxOverrides,
  options: ForkOptions = {},
): Promise<SandboxProcess> {
  const port = await freePort();
  // Checked here as well, so a bad override fails with the sandbox's own message.
  const config = resolveSandboxConfig({ ...overrides, port });
  const app = await forkApp('sandbox', { ...overrides, port }, options);
  return { ...app, port, config };
}

/**
 * Any module of the repository exporting `start(options)` (see ModuleSettings), in a child process
 * of its own with the same flags and measurements as the apps: a reference server a benchmark
 * compares the service with has to pay the same costs (ts-node, sampling) to be a fair baseline.
 */
export async function forkModule(
  path: string,
  options: object,
  forkOptions: ForkOptions = {},
): Promise<ForkedApp> {
  const settings: ModuleSettings = { path, options };
  const { adminUrl: _none, ...app } = await forkApp('module', settings, forkOptions);
  return app;
}

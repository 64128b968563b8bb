import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A child process started by the demo, with its output going to a log file. */
export interface ManagedProcess {
  name: string;
  logPath: string;
  child: ChildProcess;
  /** Resolves once the process has exited, whatever the reason. */
  exited: Promise<void>;
}

/**
 * Runs a TypeScript entry point of this repository as a child process, straight from source
 * (ts-node, transpile only, path aliases via tsconfig-paths): works on a fresh clone after
 * `npm ci`, and never runs a stale `dist/`.
 */
export function startTsProcess(options: {
  name: string;
  entry: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  logPath: string;
}): ManagedProcess {
  const fd = openSync(options.logPath, 'w');
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', options.entry],
    // Same process group as the demo: a Ctrl-C in the terminal reaches the children too.
    { cwd: options.cwd, env: options.env, stdio: ['ignore', fd, fd] },
  );
  // The child holds its own copy of the descriptor.
  closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    // spawn() failures (e.g. no such binary) emit 'error' and never 'exit'.
    child.once('error', () => resolve());
  });
  return { name: options.name, logPath: options.logPath, child, exited };
}

export function hasExited(proc: ManagedProcess): boolean {
  return proc.child.exitCode !== null || proc.child.signalCode !== null;
}

export function describeExit(proc: ManagedProcess): string {
  const { exitCode, signalCode } = proc.child;
  return signalCode !== null ? `killed by ${signalCode}` : `exited with code ${String(exitCode)}`;
}

/** SIGTERM (the apps shut down gracefully on it), then SIGKILL if it takes longer than graceMs. */
export async function stopProcess(proc: ManagedProcess, graceMs: number): Promise<string> {
  if (hasExited(proc) || proc.child.pid === undefined) return 'not running';
  proc.child.kill('SIGTERM');
  const stoppedInTime = await Promise.race([
    proc.exited.then(() => true),
    // Unreferenced: a timer must not keep the demo alive after the child is gone.
    sleep(graceMs, false, { ref: false }),
  ]);
  if (stoppedInTime) return 'stopped';
  proc.child.kill('SIGKILL');
  await proc.exited;
  return `killed (no exit within ${graceMs} ms of SIGTERM)`;
}

/** Asks the OS for a free port. Another process could take it before the child binds: unlikely. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** The last lines of a log, shortened: service logs are long JSON lines. */
export function tailOf(path: string, lines: number, width = 300): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [`(no log at ${path})`];
  }
  const kept = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-lines)
    .map((line) => (line.length > width ? `${line.slice(0, width)}…` : line));
  return kept.length > 0 ? kept : ['(empty)'];
}

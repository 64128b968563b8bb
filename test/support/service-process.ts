import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './harness';

const ROOT = join(__dirname, '..', '..');

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs the notification service as a real separate process (for crash tests: a SIGKILL must hit a
 * process, not a module in the test's own). Resolves once /health answers 200.
 */
export async function spawnService(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'apps/notification-service/src/main.ts',
    ],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => ((exited = true), resolve())),
  );
  const url = `http://127.0.0.1:${env.PORT}`;
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`service exited during start-up:\n${output}`);
        const res = await fetch(`${url}/health`).catch(() => null);
        return res?.status === 200;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the service process to answer /health' },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    url,
    output: () => output,
    kill: async (signal = 'SIGKILL') => {
      if (!exited) child.kill(signal);
      await exit;
    },
  };
}

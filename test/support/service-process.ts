import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type ServiceProcess, spawnService } from '../../tools/stack';
import type { Harness } from './harness';

// The e2e tests that run the service as a real process import it from here.
export { type ServiceProcess, spawnService };

/** One parsed line of the service's JSON log. */
export type LogLine = Record<string, any>;

/** A service process whose log a test reads, line by line, as an operator would. */
export interface LoggedService {
  service: ServiceProcess;
  /** Every line written so far, parsed (the log is JSON only: a line that is not fails). */
  lines(): LogLine[];
  /** Stops the process and removes its log (KEEP_LOG=1 prints it first). */
  close(): Promise<void>;
}

/** The service as a process on `h`'s database and Redis prefix, with `env` on top, logging to a file. */
export async function startLoggedService(
  h: Harness,
  env: Record<string, string>,
): Promise<LoggedService> {
  const dir = mkdtempSync(join(tmpdir(), 'notify-log-'));
  const service = await spawnService(
    { ...h.env, PORT: String(await freePort()), ...env },
    { logPath: join(dir, 'service.log') },
  );
  return {
    service,
    lines: () =>
      service
        .output()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as LogLine),
    close: async () => {
      if (process.env.KEEP_LOG) console.log(service.output());
      await service.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs the service's main.ts with `env` and nothing else of the test's environment (but PATH)
 * until it exits: for start-up refusals. One that starts anyway is killed after a minute.
 */
export function runMainUntilExit(env: Record<string, string>) {
  return spawnSync(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'apps/notification-service/src/main.ts',
    ],
    {
      cwd: join(__dirname, '..', '..'),
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    },
  );
}

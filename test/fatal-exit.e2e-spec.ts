import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SHUTDOWN_SIGNALS } from '../apps/notification-service/src/bootstrap';

/**
 * With Nest's default shutdown signals (SIGILL, SIGTRAP, SIGABRT… among them) a process whose V8
 * hit a fatal error looped in the signal handler for good: measured here, still alive when killed
 * 30 s later. With the service's list it dies at once, so a supervisor can restart it.
 */
describe('A fatal V8 error ends the process (e2e)', () => {
  it('exits instead of hanging, with the shutdown hooks the service installs', async () => {
    const child = spawn(
      process.execPath,
      [
        // Room for the array to reach V8's size limit before the heap limit.
        '--max-old-space-size=8192',
        '-r',
        'ts-node/register/transpile-only',
        join(__dirname, 'fixtures', 'fatal-after-shutdown-hooks.ts'),
        JSON.stringify(SHUTDOWN_SIGNALS),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      // A hang is the failure this guards against: the child is stopped, and the test fails.
      const guard = setTimeout(() => child.kill('SIGKILL'), 45_000);
      child.once('exit', (code, signal) => {
        clearTimeout(guard);
        resolve({ code, signal });
      });
    });
    expect(output).toContain('ready');
    expect(output).toContain('Fatal JavaScript invalid size error');
    expect(exit.signal).not.toBe('SIGKILL');
    expect(exit.signal !== null || (exit.code ?? 0) !== 0).toBe(true);
  }, 60_000);
});

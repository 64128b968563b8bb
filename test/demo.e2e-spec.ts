import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { baseEnv, freePort } from '../tools/stack';

const ROOT = join(__dirname, '..');

/**
 * Runs `npm run demo` to its end; resolves to its exit code and everything it printed. With
 * `--keep`, presses Enter once the demo says the stack keeps running.
 */
function runDemo(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'demo', '--', ...args], {
      cwd: ROOT,
      env: { ...baseEnv(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('The stack keeps running') && child.stdin.writable) child.stdin.end('\n');
    });
    if (!args.includes('--keep')) child.stdin.end();
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('npm run demo on a machine where nothing answers on the PostgreSQL and Redis addresses (e2e)', () => {
  it('starts throwaway servers of its own, runs to the end, and leaves none behind', async () => {
    const [postgresPort, redisPort] = [await freePort(), await freePort()];
    const { code, output } = await runDemo({
      DEMO_LOCAL_POSTGRES_URL: `postgres://postgres@127.0.0.1:${postgresPort}/postgres`,
      DEMO_LOCAL_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });

    expect({ code, tail: output.slice(-2000) }).toEqual({ code: 0, tail: expect.any(String) });
    const ownPostgres = /nothing answered at [^:]+:\d+: throwaway PostgreSQL on :(\d+)/.exec(
      output,
    );
    const ownRedis = /nothing answered at [^:]+:\d+: throwaway Redis on :(\d+)/.exec(output);
    expect(ownPostgres).not.toBeNull();
    expect(ownRedis).not.toBeNull();
    // Gone when the demo has exited: nothing listens where its servers were.
    expect(await refusesConnections(Number(ownPostgres?.[1]))).toBe(true);
    expect(await refusesConnections(Number(ownRedis?.[1]))).toBe(true);
  }, 180_000);
});

describe('npm run demo -- --keep (e2e)', () => {
  it('keeps the stack up with the console until Enter, then stops it all and exits 0', async () => {
    const { code, output } = await runDemo({}, ['--keep']);
    expect({ code, tail: output.slice(-2000) }).toEqual({ code: 0, tail: expect.any(String) });
    expect(output).toContain('The stack keeps running');
    expect(output).toMatch(/console/i);
    // Every process it started reports stopped, none "not running" as if something went wrong.
    expect(output).not.toContain('not running');
    expect(output).toContain('Demo finished: every message ended as expected.');
  }, 180_000);
});

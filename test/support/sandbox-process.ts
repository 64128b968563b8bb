import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { RunningSandbox } from '../../apps/sms-provider-sandbox/src/bootstrap';
import {
  resolveSandboxConfig,
  type SandboxOverrides,
} from '../../apps/sms-provider-sandbox/src/config';
import { freePort } from './free-port';
import { runProviderAhead } from './process-priority';

const CHILD = join(__dirname, 'sandbox-child.ts');

export type SandboxChildMessage =
  { type: 'ready'; url: string; adminUrl: string } | { type: 'failed'; error: string };

/**
 * Runs the provider sandbox in its own Node process, for tests that judge timing by the sandbox's
 * arrival log: the real provider is another machine, and its clock must not wait on the event loop
 * of the service under test. Same interface as an in-process sandbox.
 */
export async function startSandboxProcess(overrides: SandboxOverrides): Promise<RunningSandbox> {
  const port = await freePort();
  const config = resolveSandboxConfig({ ...overrides, port });
  const child = fork(CHILD, [JSON.stringify({ ...overrides, port })], {
    execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  runProviderAhead(child.pid);
  const ready = await new Promise<SandboxChildMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sandbox process: no answer in 60 s')), 60_000);
    child.once('message', (message: SandboxChildMessage) => {
      clearTimeout(timer);
      resolve(message);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`sandbox process exited during start-up (${child.exitCode})`));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  if (ready.type === 'failed') {
    child.kill('SIGKILL');
    throw new Error(`sandbox process failed to start: ${ready.error}`);
  }
  return {
    url: ready.url,
    adminUrl: ready.adminUrl,
    port,
    config,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // Closing the IPC channel is the child's signal to shut down; SIGKILL if it hangs.
        child.disconnect();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/* The child side of startSandboxProcess(): argv[2] holds the sandbox overrides as JSON. */
import { Logger } from '@nestjs/common';
import { startSandbox } from '../../apps/sms-provider-sandbox/src/bootstrap';
import type { SandboxChildMessage } from './sandbox-process';

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const send = (message: SandboxChildMessage): void => {
    process.send?.(message);
  };
  try {
    const sandbox = await startSandbox(JSON.parse(process.argv[2]));
    // The parent closing the channel (or dying) ends this process.
    process.once('disconnect', () => {
      sandbox.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    send({ type: 'ready', url: sandbox.url, adminUrl: sandbox.adminUrl });
  } catch (error) {
    send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
}

void main();

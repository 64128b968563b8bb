/*
 * The child side of forkService() / forkSandbox() (processes.ts): starts the app described by
 * argv[2], says `ready` (or `failed`), answers `stats`, and closes the app on `stop` or when the
 * parent goes away. Apart from the parent, so that the parent's own work (load, polling, a test's
 * event loop) never delays the app's.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Logger } from '@nestjs/common';
import type {
  AppChildArgs,
  FromAppChild,
  ModuleSettings,
  ProcessStats,
  ToAppChild,
} from './processes';

const LOOP_RESOLUTION_MS = 10;

function send(message: FromAppChild): void {
  // After a disconnect there is nobody to tell, and send() would fail.
  if (process.connected) process.send?.(message);
}

async function start(
  args: AppChildArgs,
): Promise<{ url: string; adminUrl: string; close(): Promise<void> }> {
  // Loaded here: a child runs one of the two apps and needs none of the other's modules.
  if (args.kind === 'service') {
    // From dist/ when compiled (what production runs), else straight from the sources.
    const from = args.compiledRoot ?? '../../apps/notification-service/src';
    const { startApp } = (await import(
      `${from}/bootstrap`
    )) as typeof import('../../apps/notification-service/src/bootstrap');
    const { loadConfig } = (await import(
      `${from}/config/load-config`
    )) as typeof import('../../apps/notification-service/src/config/load-config');
    const config = loadConfig(args.settings as Record<string, string>);
    const app = await startApp(config, '127.0.0.1');
    return { url: `http://127.0.0.1:${config.port}`, adminUrl: '', close: () => app.close() };
  }
  if (args.kind === 'module') {
    const { path, options } = args.settings as ModuleSettings;
    const loaded = (await import(path)) as {
      start(options: object): Promise<{ url: string; close(): Promise<void> }>;
    };
    const app = await loaded.start(options);
    return { url: app.url, adminUrl: '', close: () => app.close() };
  }
  const { startSandbox } = await import('../../apps/sms-provider-sandbox/src/bootstrap');
  const sandbox = await startSandbox(args.settings);
  return { url: sandbox.url, adminUrl: sandbox.adminUrl, close: () => sandbox.close() };
}

function measurer(enabled: boolean): (gc: boolean) => ProcessStats {
  let peakRss = process.memoryUsage().rss;
  const loopDelay = enabled ? monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS }) : null;
  loopDelay?.enable();
  if (enabled) {
    setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 200).unref();
  }
  // The histogram holds whole timer periods: minus the resolution is the lateness.
  const late = (ns: number): number => (loopDelay ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) : 0);
  return (gc) => {
    if (gc) globalThis.gc?.();
    const memory = process.memoryUsage();
    peakRss = Math.max(peakRss, memory.rss);
    const cpu = process.cpuUsage();
    const stats: ProcessStats = {
      rssMb: memory.rss / 2 ** 20,
      heapUsedMb: memory.heapUsed / 2 ** 20,
      peakRssMb: peakRss / 2 ** 20,
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopDelay: {
        p50: late(loopDelay?.percentile(50) ?? 0),
        p99: late(loopDelay?.percentile(99) ?? 0),
        max: late(loopDelay?.max ?? 0),
      },
    };
    loopDelay?.reset();
    return stats;
  };
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as AppChildArgs;
  Logger.overrideLogger(false);
  const stats = measurer(args.measure);
  let app: Awaited<ReturnType<typeof start>>;
  try {
    app = await start(args);
  } catch (error) {
    send({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    app.close().then(
      () => {
        send({ type: 'stopped' });
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('message', (message: ToAppChild) => {
    if (message.type === 'stats') send({ type: 'stats', stats: stats(message.gc) });
    else if (message.type === 'stop') stop();
  });
  // The parent closing the channel (or dying) ends this process too: nobody else would stop it.
  process.once('disconnect', stop);
  send({ type: 'ready', url: app.url, adminUrl: app.adminUrl });
}

void main();

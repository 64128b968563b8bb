import type { Logger } from 'pino';
import { PinoLogger } from 'nestjs-pino';
// Not re-exported by the package's index: the store its Logger reads the request's logger from.
import { Store, storage } from 'nestjs-pino/storage';

/** The ids a log line can be tied to: the request, and the notification or message it handles. */
export interface LogContext {
  request_id?: string;
  notification_id?: string;
  message_id?: string;
  delivery_id?: string;
}

function currentLogger(): Logger | undefined {
  return storage.getStore()?.logger ?? PinoLogger.root;
}

/**
 * Runs `work` so that every line logged inside it (Nest's Logger included) carries `context`:
 * what a job does is then as easy to follow as the request that created it.
 */
export function runWithLogContext<T>(context: LogContext, work: () => T): T {
  const parent = currentLogger();
  if (!parent) return work();
  const fields = Object.fromEntries(Object.entries(context).filter(([, v]) => v !== undefined));
  return storage.run(new Store(parent.child(fields)), work);
}

/** The request id of the request being handled (or the job it created), if any. */
export function currentRequestId(): string | undefined {
  const bindings: Record<string, unknown> | undefined = storage.getStore()?.logger.bindings();
  const id = bindings?.request_id;
  return typeof id === 'string' ? id : undefined;
}

import type { ChildProcess } from 'node:child_process';

/** The next IPC message of one of `types` from `child`; fails when it exits or `timeoutMs` passes. */
export function nextMessage<M extends { type: string }>(
  child: ChildProcess,
  types: readonly M['type'][],
  timeoutMs: number,
): Promise<M> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: M): void => {
      if (!types.includes(message.type)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`child process exited with ${code} before sending ${types.join('/')}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${types.join('/')} from the child process in ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

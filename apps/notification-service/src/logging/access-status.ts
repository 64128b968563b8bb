import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The status the server itself wrote on a socket, for a request it gave up on. */
const ANSWERED_BY_SERVER = Symbol('notify.answeredByServer');

type Marked<T> = T & { [ANSWERED_BY_SERVER]?: number };

function markOf(target: object | null): number | undefined {
  return (target as Marked<object> | null)?.[ANSWERED_BY_SERVER];
}

/**
 * Remembers, per socket, that Node's request timeout fired while the socket could still be
 * written to: the server's client-error handler (bootstrap) answers such a request 408 on the raw
 * socket, which the request's own response object never learns. Runs before that handler.
 */
export function watchServerAnswers(server: Server): void {
  server.prependListener('clientError', (error: Error & { code?: string }, socket: Socket) => {
    // The response in flight on the socket, if a request had got that far.
    const pending = (socket as Socket & { _httpMessage?: Marked<ServerResponse> | null })
      ._httpMessage;
    if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.writable && !pending?.headersSent) {
      (socket as Marked<Socket>)[ANSWERED_BY_SERVER] = 408;
      if (pending) pending[ANSWERED_BY_SERVER] = 408;
    }
  });
}

/**
 * What a request's access line says happened: the status the client was sent (null when it was
 * sent none), whether the exchange was cut short (the client went away, or the server gave up on
 * a request that never completed), and whether that was the request timeout.
 */
export interface AccessStatus {
  statusCode: number | null;
  aborted: boolean;
  timedOut: boolean;
}

export function accessStatusOf(res: ServerResponse): AccessStatus {
  // A response object says 200 until something else is set, whether or not it was ever sent.
  if (res.writableFinished) return { statusCode: res.statusCode, aborted: false, timedOut: false };
  const byServer = markOf(res) ?? markOf(res.socket);
  if (byServer !== undefined && !res.headersSent) {
    return { statusCode: byServer, aborted: true, timedOut: true };
  }
  return { statusCode: res.headersSent ? res.statusCode : null, aborted: true, timedOut: false };
}

/** How the access line names the outcome: the status, or `aborted` when none was sent. */
export function describeOutcome(res: ServerResponse): string {
  const { statusCode, aborted, timedOut } = accessStatusOf(res);
  if (timedOut) return `${statusCode} (request timeout)`;
  if (statusCode === null) return 'aborted';
  return aborted ? `${statusCode} (aborted)` : String(statusCode);
}

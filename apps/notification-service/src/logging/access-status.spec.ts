import { EventEmitter } from 'node:events';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { accessStatusOf, describeOutcome, watchServerAnswers } from './access-status';

/** The fields of a response accessStatusOf reads, as Node leaves them in each case. */
function response(fields: { finished: boolean; headersSent: boolean; statusCode?: number }) {
  const socket = { writable: true } as unknown as Socket;
  const res = {
    writableFinished: fields.finished,
    headersSent: fields.headersSent,
    statusCode: fields.statusCode ?? 200,
    socket,
  } as unknown as ServerResponse;
  (socket as unknown as { _httpMessage: ServerResponse })._httpMessage = res;
  return { res, socket };
}

describe(accessStatusOf.name, () => {
  it('reports a finished response with its status', () => {
    const { res } = response({ finished: true, headersSent: true, statusCode: 202 });
    expect(accessStatusOf(res)).toEqual({ statusCode: 202, aborted: false, timedOut: false });
    expect(describeOutcome(res)).toBe('202');
  });

  it('reports a response never sent as aborted with no status, not the initial 200', () => {
    const { res } = response({ finished: false, headersSent: false });
    expect(accessStatusOf(res)).toEqual({ statusCode: null, aborted: true, timedOut: false });
    expect(describeOutcome(res)).toBe('aborted');
  });

  it('reports a response cut off after its headers with their status, aborted', () => {
    const { res } = response({ finished: false, headersSent: true, statusCode: 200 });
    expect(accessStatusOf(res)).toEqual({ statusCode: 200, aborted: true, timedOut: false });
    expect(describeOutcome(res)).toBe('200 (aborted)');
  });

  it('reports the 408 the server wrote when the request timed out', () => {
    const server = new EventEmitter() as unknown as Server;
    watchServerAnswers(server);
    const { res, socket } = response({ finished: false, headersSent: false });
    server.emit(
      'clientError',
      Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' }),
      socket,
    );
    expect(accessStatusOf(res)).toEqual({ statusCode: 408, aborted: true, timedOut: true });
    expect(describeOutcome(res)).toBe('408 (request timeout)');
    // Any other client error answers nothing we can vouch for.
    const other = response({ finished: false, headersSent: false });
    server.emit(
      'clientError',
      Object.assign(new Error('bad'), { code: 'HPE_INVALID_CHUNK_SIZE' }),
      other.socket,
    );
    expect(accessStatusOf(other.res).statusCode).toBeNull();
  });
});

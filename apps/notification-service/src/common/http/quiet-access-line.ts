import type { IncomingMessage } from 'node:http';

/*
 * A request whose access line would only repeat what a summary already says (the second and later
 * failed authentications of a reporting period): the access logger leaves its line out.
 */
const QUIET = Symbol('notify.quietAccessLine');

export function leaveOutAccessLine(request: IncomingMessage): void {
  (request as IncomingMessage & { [QUIET]?: true })[QUIET] = true;
}

export function accessLineLeftOut(request: IncomingMessage): boolean {
  return (request as IncomingMessage & { [QUIET]?: true })[QUIET] === true;
}

import { createServer } from 'node:net';

/**
 * A port nothing listens on right now, on 127.0.0.1, for a process that must be told its port up
 * front. Another process could take it before the child binds; on a test box that is unlikely.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Descriptors kept free for everything that is not an HTTP client: the database pool, Redis,
 * Bull, outgoing provider and callback calls, log files.
 */
export const DESCRIPTORS_KEPT_FOR_THE_SERVICE = 256;

/** What the HTTP server is told: Node's own timeouts, checked every `connectionsCheckingInterval`. */
export function serverTimeouts(limits: {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
}) {
  return {
    http: {
      headersTimeout: limits.headersTimeoutMs,
      // Node checks the two timeouts above on this beat; 30 s (its default) would let a slow
      // client hold a socket for up to that much longer.
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  };
}

export interface ConnectionRefusals {
  /** Called (at most once a second per reason) when connections are being refused. */
  onRefused(reason: 'per_address' | 'total', address: string, refusedSinceLast: number): void;
}

/**
 * Caps the open connections of `server`: per peer address (so that one client, idle or slow,
 * cannot hold every socket) and in all (so that sockets never take the descriptors the service
 * needs for PostgreSQL and Redis). A refused connection is closed at once, before a byte is read.
 * Trusted proxies are exempt from the per-address cap: every client behind them shares their
 * address, and the proxy enforces its own limits.
 */
export function capConnections(
  server: Server,
  limits: { maxConnectionsPerAddress: number; maxConnections: number },
  /** Addresses the per-address cap does not count (trusted proxies). */
  isExempt: (address: string) => boolean,
  refusals: ConnectionRefusals,
): void {
  const open = new Map<string, number>();
  // Node refuses (destroys) connections past this itself, before 'connection' is emitted.
  server.maxConnections = Math.min(limits.maxConnections, descriptorBudget());
  let refused = 0;
  let reportedAt = 0;
  server.on('drop', (data?: { remoteAddress?: string }) => {
    note('total', data?.remoteAddress ?? 'unknown');
  });

  function note(reason: 'per_address' | 'total', address: string): void {
    refused++;
    const now = Date.now();
    if (now - reportedAt >= 1000) {
      refusals.onRefused(reason, address, refused);
      refused = 0;
      reportedAt = now;
    }
  }

  if (limits.maxConnectionsPerAddress > 0) {
    server.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? 'unknown';
      if (isExempt(address)) return;
      const count = (open.get(address) ?? 0) + 1;
      if (count > limits.maxConnectionsPerAddress) {
        note('per_address', address);
        socket.destroy();
        return;
      }
      open.set(address, count);
      socket.once('close', () => {
        const left = (open.get(address) ?? 1) - 1;
        if (left === 0) open.delete(address);
        else open.set(address, left);
      });
    });
  }
}

/**
 * The open-files limit less the descriptors the service keeps for itself; unlimited where the
 * limit can't be read (not Linux).
 */
function descriptorBudget(): number {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    if (soft === undefined || soft === 'unlimited') return Number.POSITIVE_INFINITY;
    return Math.max(16, Number(soft) - DESCRIPTORS_KEPT_FOR_THE_SERVICE);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/*
 * REDIS_URL names either one Redis server or a Redis Cluster:
 *
 *   redis://[user:password@]host[:port][/db]           one server (rediss:// for TLS)
 *   redis+cluster://[user:password@]host:port,host:port  a cluster (rediss+cluster:// for TLS)
 *
 * A cluster URL lists seed nodes only: the client learns every other node from them, so two or
 * three of the masters are enough. The WHATWG URL parser refuses a comma-separated host list,
 * hence the hand-written part below. No module imports here: the test kit's global set-up loads
 * this file without the apps' path aliases.
 */

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | {
      kind: 'standalone';
      /** As given, trailing slashes removed: ioredis reads it (credentials, db, TLS) itself. */
      url: string;
    }
  | {
      kind: 'cluster';
      url: string;
      nodes: RedisNode[];
      username?: string;
      password?: string;
      tls: boolean;
    };

const STANDALONE = ['redis:', 'rediss:'];
const CLUSTER = ['redis+cluster:', 'rediss+cluster:'];
const DEFAULT_PORT = 6379;

/** Why a REDIS_URL was refused; the text follows the variable's name in the start-up error. */
export class RedisUrlError extends Error {}

/**
 * The target `value` names; throws a RedisUrlError saying what is wrong. Messages never repeat
 * the URL itself: it may carry a password.
 */
export function parseRedisUrl(value: string): RedisTarget {
  const trimmed = value.trim();
  const scheme = /^([a-z][a-z0-9+.-]*:)\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme !== undefined && CLUSTER.includes(scheme)) return parseCluster(trimmed, scheme);
  const url = trimmed.replace(/\/+$/, '');
  if (!URL.canParse(url)) throw new RedisUrlError('must be a URL');
  if (!STANDALONE.includes(new URL(url).protocol)) {
    throw new RedisUrlError(`must use ${[...STANDALONE, ...CLUSTER].join(' or ')}`);
  }
  return { kind: 'standalone', url };
}

function parseCluster(given: string, scheme: string): RedisTarget {
  const rest = given.slice(scheme.length + 2).replace(/\/+$/, '');
  const url = `${given.slice(0, scheme.length + 2)}${rest}`;
  // The last @ ends the credentials: a password may hold one (percent-encoded or not).
  const at = rest.lastIndexOf('@');
  const userInfo = at === -1 ? undefined : rest.slice(0, at);
  const hostList = at === -1 ? rest : rest.slice(at + 1);
  if (/[/?#]/.test(hostList)) {
    // A cluster has database 0 only, and nothing else is read from a path or a query.
    throw new RedisUrlError(
      `must not name a database, path or query with ${scheme}// (a cluster has database 0 only)`,
    );
  }
  if (hostList.trim() === '') {
    throw new RedisUrlError(`must list at least one host:port after ${scheme}//`);
  }
  const nodes = hostList.split(',').map((entry) => parseNode(entry.trim()));
  const target: RedisTarget = { kind: 'cluster', url, nodes, tls: scheme === 'rediss+cluster:' };
  if (userInfo !== undefined) {
    // Read as ioredis reads redis:// URLs: `user:password`, `:password` for a password alone.
    const colon = userInfo.indexOf(':');
    const username = decode(colon === -1 ? userInfo : userInfo.slice(0, colon));
    const password = colon === -1 ? '' : decode(userInfo.slice(colon + 1));
    if (username !== '') target.username = username;
    if (password !== '') target.password = password;
  }
  return target;
}

function parseNode(entry: string): RedisNode {
  // host, host:port, [v6], [v6]:port
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(entry);
  const port = match?.[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!match || port < 1 || port > 65535) {
    throw new RedisUrlError(`must list cluster nodes as host:port, got "${entry}"`);
  }
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError('has a badly percent-encoded user name or password');
  }
}

import { parseRedisUrl, RedisUrlError } from './redis-url';

describe(parseRedisUrl.name, () => {
  it('keeps a one-server URL for ioredis to read', () => {
    expect(parseRedisUrl(' rediss://user:pw@cache.internal:6380/2/ ')).toEqual({
      kind: 'standalone',
      url: 'rediss://user:pw@cache.internal:6380/2',
    });
  });

  it('reads the seed nodes of a cluster', () => {
    expect(parseRedisUrl('redis+cluster://10.0.0.1:7000, 10.0.0.2:7001,cache-3')).toEqual({
      kind: 'cluster',
      url: 'redis+cluster://10.0.0.1:7000, 10.0.0.2:7001,cache-3',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: 'cache-3', port: 6379 },
      ],
      tls: false,
    });
  });

  it('reads TLS, credentials (percent-decoded) and IPv6 nodes', () => {
    expect(parseRedisUrl('REDISS+CLUSTER://app:p%40ss:w@rd@[::1]:7000,[fd00::2]')).toMatchObject({
      kind: 'cluster',
      nodes: [
        { host: '::1', port: 7000 },
        { host: 'fd00::2', port: 6379 },
      ],
      username: 'app',
      password: 'p@ss:w@rd',
      tls: true,
    });
    const passwordOnly = parseRedisUrl('redis+cluster://:secret@h:1');
    expect(passwordOnly).toMatchObject({ password: 'secret' });
    expect(passwordOnly).not.toHaveProperty('username');
  });

  it.each([
    ['not a url', 'must be a URL'],
    ['http://cache:6379', 'must use redis: or rediss: or redis+cluster: or rediss+cluster:'],
    ['redis+cluster://', 'must list at least one host:port after redis+cluster://'],
    ['redis+cluster://a:7000,,b:7001', 'must list cluster nodes as host:port, got ""'],
    ['redis+cluster://a:7000,b:70000', 'must list cluster nodes as host:port, got "b:70000"'],
    ['redis+cluster://a:7000,b:x', 'must list cluster nodes as host:port, got "b:x"'],
    ['redis+cluster://a:7000/1', 'must not name a database, path or query with redis+cluster://'],
    ['redis+cluster://a:7000?tls=1', 'must not name a database, path or query'],
    ['redis+cluster://%E0%A4%A@a:7000', 'has a badly percent-encoded user name or password'],
  ])('refuses %p', (value, problem) => {
    expect(() => parseRedisUrl(value)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(value)).toThrow(problem);
  });

  it('never repeats the credentials in what it says', () => {
    expect(() => parseRedisUrl('redis+cluster://u:hunter2@a:7000/0')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});

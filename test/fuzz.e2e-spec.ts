import { Agent, request as httpRequest } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { signWebhookPayload } from '@app/sms-provider';
import fc from 'fast-check';
import { ADMIN_KEY, createTemplate, type Harness, startHarness } from './support/harness';

/**
 * Property-based fuzzing of every route that takes input: generated bodies, headers, query
 * strings, path segments and template bodies with nested blocks. For every request: no 5xx, every
 * error in the envelope, nothing stored when refused; and the service healthy at the end with no
 * request having blocked the event loop for long.
 *
 * Reproduce a failure with the seed fast-check prints: FUZZ_SEED=<seed> npx jest ... fuzz.
 */
const SEED =
  process.env.FUZZ_SEED === undefined ? Date.now() ^ 0x5eed : Number(process.env.FUZZ_SEED);
/** Runs per property; 10 properties, ≥ 10,000 requests in all (four of them send two). */
const RUNS = process.env.FUZZ_RUNS === undefined ? 1000 : Number(process.env.FUZZ_RUNS);
const SECRET = 'whsec_sandbox';
const WEBHOOK = '/v1/webhooks/sms-provider';

/** Whether `s` has no lone surrogate, the one thing encodeURIComponent cannot encode. */
const wellFormed = (s: string) => !/\p{Cs}/u.test(s);
/** The first `n` code points: slicing by UTF-16 units could split a pair into lone halves. */
const codePoints = (s: string, n: number) => Array.from(s).slice(0, n).join('');

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** How many of the slowest requests are replayed alone at the end. */
const SLOWEST_KEPT = 5;

interface Reply {
  status: number;
  body: unknown;
  text: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function send(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    const req = httpRequest({ host: hostname, port, method, path, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

/** Strings with the characters that break things: NUL, controls, lone surrogates, emoji, %. */
const nasty = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '',
    '\u0000',
    'a\u0000b',
    '\u001b[2J',
    '\ud800',
    'x\udc00',
    '🎉',
    '%FF',
    '../..',
    '{{',
    '=HYPERLINK("x")',
    ' '.repeat(3),
    'x'.repeat(2000),
  ),
);

const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nasty,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nasty, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Mostly well-formed instants, some from the edges and some not instants at all. */
const instant = fc.oneof(
  fc
    .date({
      min: new Date('1960-01-01T00:00:00Z'),
      max: new Date('2100-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  fc
    .integer({ min: -600, max: 60 * 24 * 40 })
    .map((m) => new Date(Date.now() + m * 60_000).toISOString()),
  fc.constantFrom(
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2026-02-30T00:00:00Z',
    'tomorrow',
  ),
  nasty,
);

const phone = fc.oneof(
  fc.constantFrom('+14155550100', '+14155550101', '+447700900123'),
  fc.stringMatching(/^\+?[0-9]{0,16}$/),
  nasty,
);

const templateKey = fc.oneof(
  fc.constantFrom('fz', 'fz_nested', 'missing'),
  fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/),
  nasty,
);

/** Handlebars bodies built from the constructs we allow, nested, plus junk. */
const path = fc.constantFrom(
  'a',
  'b',
  'name',
  '@root.a',
  '../a',
  'this',
  'items',
  'x.y',
  '@index',
  '@root.items',
);
const templateBody: fc.Arbitrary<string> = fc.letrec<{ body: string }>((tie) => ({
  body: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 20 }),
    path.map((p) => `{{${p}}}`),
    fc
      .tuple(fc.constantFrom('each', 'with', 'if', 'unless'), path, tie('body'), tie('body'))
      .map(([h, p, inner, other]) => `{{#${h} ${p}}}${inner}{{else}}${other}{{/${h}}}`),
    fc
      .tuple(fc.constantFrom('each', 'with'), path, tie('body'))
      .map(([h, p, inner]) => `{{#${h} ${p}}}${inner}{{/${h}}}`),
    fc.tuple(tie('body'), tie('body')).map(([x, y]) => `${x}${y}`),
    fc.constantFrom('{{', '}}', '{{> partial}}', '{{lookup a b}}', '{{#each}}', 'x'.repeat(900)),
  ),
})).body;

const variables = fc.oneof(
  fc.dictionary(fc.constantFrom('a', 'b', 'name', 'items', 'x'), jsonValue, { maxKeys: 5 }),
  fc.record({
    a: fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), jsonValue), { maxLength: 30 }),
    items: fc.array(fc.record({ a: fc.string({ maxLength: 5 }) }), { maxLength: 30 }),
    name: fc.string({ maxLength: 10 }),
  }),
  jsonValue,
);

/** A body that is sometimes not JSON, sometimes deep, mostly an object with these fields. */
function bodyOf(fields: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fields.map((f) => JSON.stringify(f)) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 30, max: 3000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 1, arbitrary: jsonValue.map((v) => JSON.stringify(v) ?? 'null') },
  );
}

const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'text/plain',
      'application/json; charset=latin1',
      'application/xml',
      '',
    ),
  },
);

/** Query strings: known names with junk values, duplicates, escapes that are not UTF-8. */
function queryOf(names: string[]): fc.Arbitrary<string> {
  const pair = fc.tuple(
    fc.oneof(fc.constantFrom(...names), nasty),
    fc.oneof(nasty, instant, fc.integer().map(String)),
  );
  return fc.oneof(
    fc
      .array(pair, { maxLength: 5 })
      .map((pairs) =>
        pairs
          .map(
            ([k, v]) =>
              `${encodeURIComponent(wellFormed(k) ? k : 'k')}=${encodeURIComponent(wellFormed(v) ? v : 'v')}`,
          )
          .join('&'),
      ),
    fc.constantFrom(
      'limit=1&limit=2',
      'a=%FF',
      'a=%ED%A0%80',
      'cursor=%00',
      'since=%2B275760-09-13T00:00:00Z',
    ),
  );
}

/** A path segment as a caller could write it: percent-encoded junk, long ids, raw escapes. */
const segment = fc.oneof(
  fc.uuid(),
  nasty.map((s) => encodeURIComponent(wellFormed(s) ? s : 's')),
  fc.constantFrom('%FF', '%00', 'a'.repeat(150), '..', '%2F'),
);

// ---------------------------------------------------------------------------------------------

describe('Fuzzing every route that takes input (e2e)', () => {
  let h: Harness;
  let teamKey: string;
  let requests = 0;
  let refused = 0;
  let worstBlocking = 0;
  /** The requests during which the event loop was held up most, replayed at the end. */
  const slowest: { ms: number; request: Sent }[] = [];
  function noteBlocking(ms: number, request: Sent): void {
    if (slowest.length === SLOWEST_KEPT && ms <= slowest[SLOWEST_KEPT - 1].ms) return;
    slowest.push({ ms, request });
    slowest.sort((a, b) => b.ms - a.ms);
    slowest.length = Math.min(slowest.length, SLOWEST_KEPT);
  }
  const loop = monitorEventLoopDelay({ resolution: 10 });

  beforeAll(async () => {
    // Behind one proxy, so that generated X-Forwarded-For headers are read (and must not hurt).
    h = await startHarness({ env: { TRUST_PROXY: '1' } });
    await createTemplate(h, 'fz', 'Hi {{name}}');
    await createTemplate(
      h,
      'fz_nested',
      '{{#each a}}{{#each @root.a}}{{@root.name}}{{/each}}{{/each}}!',
    );
    const key = await h.api('POST', '/v1/api-keys', {
      body: {
        name: 'fuzz',
        team: 'fuzzers',
        scopes: [
          'templates:read',
          'templates:write',
          'notifications:send',
          'notifications:read',
          'reports:read',
        ],
      },
    });
    teamKey = key.body.key;
    fc.configureGlobal({ seed: SEED, numRuns: RUNS, endOnFailure: true });
    loop.enable();
  });

  afterAll(async () => {
    loop.disable();
    agent.destroy();
    process.stdout.write(
      `fuzz: seed ${SEED}, ${requests} requests (${refused} refused), ` +
        `event loop held up at most ${worstBlocking.toFixed(0)} ms during one request\n`,
    );
    await h?.close();
  });

  async function stored() {
    const [row] = await h.sql(
      `SELECT (SELECT count(*) FROM notifications)::int AS n, (SELECT count(*) FROM messages)::int AS m,
              (SELECT count(*) FROM templates)::int AS t, (SELECT count(*) FROM template_versions)::int AS v,
              (SELECT count(*) FROM api_keys)::int AS k`,
    );
    return row;
  }

  /** Sends one generated request and checks what every answer must satisfy. */
  async function check(
    method: string,
    path: string,
    options: {
      body?: string;
      headers?: Record<string, string>;
      key?: string | null;
      mutates?: boolean;
    },
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    if (key !== null) headers.authorization = `Bearer ${key}`;
    const before = options.mutates ? await stored() : undefined;
    loop.reset();
    const reply = await send(h.url, method, path, headers, options.body);
    noteBlocking(loop.max / 1e6, { method, path, headers, body: options.body });
    worstBlocking = Math.max(worstBlocking, loop.max / 1e6);
    requests++;
    const what = `${method} ${path.slice(0, 120)} ${String(options.body).slice(0, 200)} → ${reply.status} ${reply.text.slice(0, 300)}`;
    if (reply.status >= 500) throw new Error(`5xx: ${what}`);
    if (reply.status >= 400) {
      refused++;
      const envelope = reply.body as {
        success?: unknown;
        error?: { code?: unknown; message?: unknown };
      };
      if (
        envelope?.success !== false ||
        typeof envelope.error?.code !== 'string' ||
        typeof envelope.error.message !== 'string'
      ) {
        throw new Error(`not in the envelope: ${what}`);
      }
      if (before) {
        const after = await stored();
        if (JSON.stringify(after) !== JSON.stringify(before)) {
          throw new Error(`stored something for a refused request: ${what}`);
        }
      }
    }
    return reply;
  }

  const anyKey = fc.oneof(
    { weight: 6, arbitrary: fc.constant<string | null | undefined>(undefined) },
    { weight: 3, arbitrary: fc.constant<'team'>('team') },
    { weight: 1, arbitrary: fc.constantFrom<string | null>(null, 'not-a-key', 'x y') },
  );
  const keyFor = (k: string | null | undefined) => (k === 'team' ? teamKey : k);

  it('POST /v1/notifications', async () => {
    const fields = fc.record(
      {
        template: templateKey,
        to: fc.oneof(phone, fc.array(phone, { maxLength: 4 })),
        variables,
        scheduled_at: instant,
        expires_at: instant,
        priority: fc.oneof(fc.constantFrom('high', 'normal', 'low'), nasty),
        reference: nasty,
        callback_url: fc.oneof(
          fc.webUrl(),
          nasty,
          // Credentials, and IPv6 forms that carry an IPv4 address or are private.
          fc.constantFrom(
            'https://user:secret@example.com/cb',
            'https://token@example.com/cb',
            'http://[::7f00:1]/cb',
            'http://[::ffff:169.254.169.254]/latest',
            'http://[64:ff9b::a00:1]/cb',
            'http://[2002:7f00:1::]/cb',
            'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/cb',
            'http://[fd00::1]/cb',
          ),
        ),
        from: nasty,
        extra: jsonValue,
      },
      { requiredKeys: ['template', 'to'] },
    );
    await fc.assert(
      fc.asyncProperty(
        bodyOf(fields),
        contentType,
        anyKey,
        nasty,
        async (body, type, key, idem) => {
          const headers: Record<string, string> = { 'content-type': type };
          if (idem.length > 0 && !/[\r\n]/.test(idem) && wellFormed(idem))
            headers['idempotency-key'] = encodeURIComponent(idem).slice(0, 100);
          await check('POST', '/v1/notifications', {
            body,
            headers,
            key: keyFor(key),
            mutates: true,
          });
        },
      ),
    );
  });

  it('POST /v1/templates and preview, with nested blocks', async () => {
    await fc.assert(
      fc.asyncProperty(templateBody, variables, anyKey, async (body, vars, key) => {
        const k = `fz${requests}`;
        const created = await check('POST', '/v1/templates', {
          body: JSON.stringify({ key: k, body }),
          headers: { 'content-type': 'application/json' },
          key: keyFor(key),
          mutates: true,
        });
        const target = created.status === 201 ? k : 'fz_nested';
        await check('POST', `/v1/templates/${target}/preview`, {
          body: JSON.stringify({ variables: vars }),
          headers: { 'content-type': 'application/json' },
          key: keyFor(key),
        });
      }),
    );
  });

  it('PUT /v1/templates/{key} and the template reads', async () => {
    const fields = fc.record(
      { body: fc.oneof(templateBody, nasty), sender_id: nasty, description: nasty },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        segment,
        bodyOf(fields),
        contentType,
        anyKey,
        fc.constantFrom('', '/versions', '/versions/1', '/versions/x'),
        async (seg, body, type, key, tail) => {
          await check('PUT', `/v1/templates/${seg}`, {
            body,
            headers: { 'content-type': type },
            key: keyFor(key),
            mutates: true,
          });
          await check('GET', `/v1/templates/${seg}${tail}`, { key: keyFor(key) });
        },
      ),
    );
  });

  it('POST /v1/api-keys', async () => {
    const fields = fc.record({
      name: nasty,
      team: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), nasty),
      scopes: fc.oneof(
        fc.array(fc.oneof(fc.constantFrom('templates:read', 'admin', 'nope'), nasty), {
          maxLength: 3,
        }),
        jsonValue,
      ),
    });
    await fc.assert(
      fc.asyncProperty(bodyOf(fields), contentType, anyKey, async (body, type, key) => {
        await check('POST', '/v1/api-keys', {
          body,
          headers: { 'content-type': type },
          key: keyFor(key),
          mutates: true,
        });
      }),
    );
  });

  it('list queries: notifications, messages, reports, callbacks', async () => {
    const route = fc.constantFrom<[string, string[]]>(
      [
        '/v1/notifications',
        ['status', 'template', 'reference', 'since', 'until', 'limit', 'cursor'],
      ],
      [
        '/v1/messages',
        [
          'status',
          'error_code',
          'template',
          'since',
          'until',
          'to',
          'provider_message_id',
          'notification_id',
          'reference',
          'limit',
          'cursor',
        ],
      ],
      ['/v1/reports/delivery', ['since', 'until', 'template', 'team', 'group_by', 'format']],
      ['/v1/callbacks/failed', ['limit', 'cursor', 'since']],
      ['/v1/templates', ['include_archived', 'limit', 'cursor', 'owner_team']],
      ['/v1/templates/fz/versions', ['limit', 'cursor', 'owner_team']],
    );
    await fc.assert(
      fc.asyncProperty(
        route.chain(([p, names]) => queryOf(names).map((q) => `${p}?${q}`)),
        anyKey,
        async (url, key) => {
          await check('GET', url, { key: keyFor(key) });
        },
      ),
    );
  });

  it('ids in paths: cancel, callbacks, redeliver, messages, api keys', async () => {
    const route = fc.constantFrom<[string, string]>(
      ['GET', '/v1/notifications/:id'],
      ['POST', '/v1/notifications/:id/cancel'],
      ['GET', '/v1/notifications/:id/callbacks'],
      ['POST', '/v1/notifications/:id/callbacks/redeliver'],
      ['GET', '/v1/messages/:id'],
      ['POST', '/v1/messages/:id/resend'],
      ['DELETE', '/v1/api-keys/:id'],
      ['DELETE', '/v1/templates/:id'],
    );
    await fc.assert(
      fc.asyncProperty(
        route,
        segment,
        anyKey,
        fc.option(fc.constantFrom('{}', '[]', '{"x":1}', 'x')),
        async ([method, p], seg, key, body) => {
          const headers: Record<string, string> =
            body === null ? {} : { 'content-type': 'application/json' };
          await check(method, p.replace(':id', seg), {
            key: keyFor(key),
            body: body ?? undefined,
            headers,
            mutates: method !== 'GET',
          });
        },
      ),
    );
  });

  it('POST /v1/messages/resend and the callback secret', async () => {
    const fields = fc.record(
      {
        status: nasty,
        template: nasty,
        since: instant,
        until: instant,
        dry_run: fc.oneof(fc.boolean(), nasty),
        limit: fc.oneof(fc.integer(), nasty),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(bodyOf(fields), anyKey, fc.boolean(), async (body, key, dryRun) => {
        const withDryRun = dryRun ? body.replace(/^\{/, '{"dry_run":true,') : body;
        await check('POST', '/v1/messages/resend', {
          body: withDryRun,
          headers: { 'content-type': 'application/json' },
          key: keyFor(key),
        });
        await check(
          'GET',
          `/v1/callbacks/secret?team=${encodeURIComponent(wellFormed(body) ? codePoints(body, 200) : 'x')}`,
          {
            key: keyFor(key),
          },
        );
      }),
    );
  });

  it('the webhook receiver, signed and unsigned', async () => {
    const payload = fc.oneof(
      fc
        .record(
          {
            message_id: fc.oneof(fc.constantFrom('msg_1', 'msg_unknown'), nasty),
            status: fc.oneof(fc.constantFrom('delivered', 'failed', 'sent'), nasty),
            event: nasty,
            timestamp: fc.oneof(fc.double(), fc.integer(), instant),
            delivered_at: fc.oneof(instant, fc.double()),
            error_code: nasty,
          },
          { requiredKeys: [] },
        )
        .map((p) => JSON.stringify(p)),
      bodyOf(fc.record({ x: jsonValue })),
    );
    await fc.assert(
      fc.asyncProperty(
        payload,
        fc.constantFrom('valid', 'wrong', 'none', 'stringified'),
        contentType,
        async (body, signing, type) => {
          const headers: Record<string, string> = { 'content-type': type };
          if (signing === 'valid')
            headers['x-smsprovider-signature'] = signWebhookPayload(body, SECRET);
          if (signing === 'wrong')
            headers['x-smsprovider-signature'] = signWebhookPayload(body, 'whsec_other');
          if (signing === 'stringified') {
            try {
              headers['x-smsprovider-signature'] = signWebhookPayload(
                JSON.stringify(JSON.parse(body)),
                SECRET,
              );
            } catch {
              headers['x-smsprovider-signature'] = 'f'.repeat(64);
            }
          }
          const reply = await check('POST', WEBHOOK, { body, headers, key: null });
          if (
            signing !== 'valid' &&
            signing !== 'stringified' &&
            reply.status !== 401 &&
            reply.status !== 415
          ) {
            throw new Error(`unsigned webhook answered ${reply.status}: ${body.slice(0, 100)}`);
          }
        },
      ),
    );
  });

  it('authentication: key shapes, forwarded addresses and the block routes', async () => {
    const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{32}$/);
    const authorization = fc.oneof(
      fc.constant<string | undefined>(undefined),
      fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `bearer ${ADMIN_KEY}`),
      base64url.map((k) => `Bearer nk_${k}`),
      nasty
        // What an HTTP client can put in a header at all: printable ASCII.
        .filter((k) => /^[ -~]*$/.test(k))
        .map((k) => `Bearer ${k}`),
    );
    const ip = fc.oneof(fc.ipV4(), fc.ipV6());
    const forwarded = fc.oneof(
      fc.constant<string | undefined>(undefined),
      fc
        .array(fc.oneof(ip, fc.stringMatching(/^[ -+\--~]{0,20}$/)), { maxLength: 4 })
        .map((a) => a.join(', ')),
    );
    const route = fc.oneof(
      fc.constantFrom<[string, string]>(
        ['GET', '/v1/templates'],
        ['GET', '/v1/auth/blocks'],
        ['POST', '/v1/notifications'],
      ),
      fc
        .tuple(fc.oneof(fc.constantFrom('address', 'key_prefix'), segment), segment)
        .map(([kind, value]): [string, string] => ['DELETE', `/v1/auth/blocks/${kind}/${value}`]),
    );
    await fc.assert(
      fc.asyncProperty(route, authorization, forwarded, async ([method, p], auth, xff) => {
        const headers: Record<string, string> = {};
        if (auth !== undefined) headers.authorization = auth;
        if (xff !== undefined) headers['x-forwarded-for'] = xff;
        if (method === 'POST') headers['content-type'] = 'application/json';
        const reply = await check(method, p, {
          key: null,
          headers,
          body: method === 'POST' ? '{"template":"fz","to":"+14155550100"}' : undefined,
          mutates: method !== 'GET',
        });
        // Whatever else was sent, the admin key is never refused for failures of others.
        const valid = await check('GET', '/v1/templates?limit=1', {
          headers: xff ? { 'x-forwarded-for': xff } : {},
        });
        if (valid.status !== 200)
          throw new Error(`a valid key got ${valid.status} after ${reply.status}`);
      }),
    );
  });

  it('raw headers and methods on any route', async () => {
    const route = fc.constantFrom(
      '/v1/notifications',
      '/v1/templates',
      '/v1/api-keys',
      '/v1/reports/delivery',
      '/v1/queue',
      '/v1/account',
      '/v1/auth/blocks',
      '/health',
      '/nope',
    );
    await fc.assert(
      fc.asyncProperty(
        route,
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
        fc.dictionary(fc.stringMatching(/^x-[a-z]{1,8}$/), fc.stringMatching(/^[ -~\t]{0,30}$/), {
          maxKeys: 3,
        }),
        async (p, method, extra) => {
          if (method === 'HEAD') return;
          await check(method, p, { headers: extra, mutates: method !== 'GET' });
        },
      ),
    );
  });

  it('leaves the service healthy, with no request blocking the event loop for long', async () => {
    const health = await h.api('GET', '/health', { key: null });
    expect(health.status).toBe(200);
    if (RUNS >= 1000) expect(requests).toBeGreaterThanOrEqual(10_000);
    // The app runs in this process, so the loop's delay while a request is in flight is what
    // that request (and its work) cost. On two shared cores a garbage collection or another
    // process can hold the loop up once; a request that blocks it does so again, replayed alone.
    for (const { request } of slowest) {
      loop.reset();
      await send(h.url, request.method, request.path, request.headers, request.body);
      const replayed = loop.max / 1e6;
      const what = `${request.method} ${request.path.slice(0, 80)} ${String(request.body).slice(0, 200)}`;
      expect({ what, replayed: replayed < 100 }).toEqual({ what, replayed: true });
    }
  });
});

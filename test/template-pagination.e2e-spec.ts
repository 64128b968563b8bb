import { type ApiResponse, type Harness, startHarness } from './support/harness';

/**
 * Bounded template lists (issue 17, class 1): `GET /v1/templates/{key}/versions` answered every
 * version at once (one answer of 20 MB was measured) and `GET /v1/templates` every template.
 */
describe('Template lists, paginated (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(() => h?.close());

  /** Follows next_cursor from `path` (which has a query already) to the end; every page's answer. */
  async function walk(path: string, key?: string): Promise<ApiResponse[]> {
    const pages: ApiResponse[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse = await h.api(
        'GET',
        cursor ? `${path}&cursor=${encodeURIComponent(cursor)}` : path,
        key ? { key } : {},
      );
      expect(page.status).toBe(200);
      pages.push(page);
      cursor = page.body.next_cursor;
    } while (cursor);
    return pages;
  }

  it('pages a template with 300 versions of the largest body instead of answering all at once', async () => {
    // A comment fills the body to the 10,000 characters a version may have: rendered, each is short.
    const body = (n: number) => `v${n} {{name}} {{!-- ${'x'.repeat(9_960)} --}}`;
    const created = await h.api('POST', '/v1/templates', {
      body: { key: 'history', body: body(1) },
    });
    expect(created.status).toBe(201);
    for (let n = 2; n <= 300; n++) {
      const put = await h.api('PUT', '/v1/templates/history', { body: { body: body(n) } });
      expect(put.status).toBe(200);
    }

    // Unbounded, this was one answer of 300 bodies (3 MB here; 20 MB was measured).
    const first = await h.api('GET', '/v1/templates/history/versions');
    expect(first.status).toBe(200);
    expect(first.body.data.map((v: { version: number }) => v.version)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(typeof first.body.next_cursor).toBe('string');
    expect(first.text.length).toBeLessThan(50 * 10_500);

    const pages = await walk('/v1/templates/history/versions?limit=100');
    expect(pages).toHaveLength(3);
    for (const page of pages) expect(page.text.length).toBeLessThan(100 * 10_500);
    const versions = pages.flatMap((p) => p.body.data);
    expect(versions.map((v: { version: number }) => v.version)).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    expect(versions[299]).toMatchObject({ current: true, body: body(300), owner_team: null });
    expect(versions[0]).toMatchObject({ current: false, body: body(1) });
    expect(pages[2].body.next_cursor).toBeNull();
  });

  it('refuses a limit over the maximum and a cursor it did not make', async () => {
    await h.api('POST', '/v1/templates', { body: { key: 'limits', body: 'x' } });
    for (const path of ['/v1/templates', '/v1/templates/limits/versions']) {
      for (const limit of ['101', '0', '999']) {
        const res = await h.api('GET', `${path}?limit=${limit}`);
        expect(res.status).toBe(422);
        expect(res.body.error).toMatchObject({ code: 'invalid_limit' });
        expect(res.body.error.message).toContain('between 1 and 100');
      }
      for (const limit of ['1000000', 'ten', '-1']) {
        const res = await h.api('GET', `${path}?limit=${limit}`);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      for (const cursor of ['nope', Buffer.from('["x"]').toString('base64url'), '%5B%5D']) {
        const res = await h.api('GET', `${path}?cursor=${cursor}`);
        expect(res.status).toBe(422);
        expect(res.body.error.code).toBe('invalid_cursor');
      }
      expect((await h.api('GET', `${path}?limit=100`)).status).toBe(200);
    }
  });

  it('pages the list by key and owner: each template once, in order, across namespaces', async () => {
    const alpha = await teamKey('alpha');
    const beta = await teamKey('beta');
    const make = async (key: string, body: Record<string, unknown>) =>
      expect((await h.api('POST', '/v1/templates', { key, body })).status).toBe(201);
    for (const k of ['ns.p1', 'ns.p2', 'ns.p3']) await make(alpha, { key: k, body: k });
    await make(beta, { key: 'ns.p2', body: 'beta' });
    for (const k of ['ns.p1', 'ns.p2', 'ns.p3', 'ns.p4', 'ns.p5']) {
      expect((await h.api('POST', '/v1/templates', { body: { key: k, body: k } })).status).toBe(
        201,
      );
    }

    const seen = (pages: ApiResponse[]) =>
      pages
        .flatMap((p) => p.body.data as { key: string; owner_team: string | null }[])
        .filter((t) => t.key.startsWith('ns.'))
        .map((t) => `${t.key}:${t.owner_team ?? 'shared'}`);
    const admin = await walk('/v1/templates?limit=2');
    expect(admin.every((p) => p.body.data.length <= 2)).toBe(true);
    expect(seen(admin)).toEqual([
      'ns.p1:shared',
      'ns.p1:alpha',
      'ns.p2:shared',
      'ns.p2:alpha',
      'ns.p2:beta',
      'ns.p3:shared',
      'ns.p3:alpha',
      'ns.p4:shared',
      'ns.p5:shared',
    ]);
    // A team sees what its keys resolve to: its own first, else the shared one.
    expect(seen(await walk('/v1/templates?limit=2', alpha))).toEqual([
      'ns.p1:alpha',
      'ns.p2:alpha',
      'ns.p3:alpha',
      'ns.p4:shared',
      'ns.p5:shared',
    ]);
    expect(seen(await walk('/v1/templates?limit=3', beta))).toEqual([
      'ns.p1:shared',
      'ns.p2:beta',
      'ns.p3:shared',
      'ns.p4:shared',
      'ns.p5:shared',
    ]);
  });

  it('answers at most 50 templates by default', async () => {
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        h.api('POST', '/v1/templates', { body: { key: `many.${i}`, body: `n ${i}` } }),
      ),
    );
    const first = await h.api('GET', '/v1/templates');
    expect(first.body.data).toHaveLength(50);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const all = (await walk('/v1/templates?limit=100')).flatMap((p) => p.body.data);
    const keys = all
      .map((t: { key: string }) => t.key)
      .filter((k: string) => k.startsWith('many.'));
    expect(new Set(keys).size).toBe(60);
  });

  async function teamKey(team: string): Promise<string> {
    const res = await h.api('POST', '/v1/api-keys', {
      body: { name: `${team}-pages`, team, scopes: ['templates:read', 'templates:write'] },
    });
    expect(res.status).toBe(201);
    return res.body.key as string;
  }
});

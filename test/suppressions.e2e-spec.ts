import { type Harness, startHarness } from './support/harness';

/** `count` distinct valid German mobile numbers from +49151<from, 8 digits>. */
const mobiles = (from: number, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `+49151${String(from + i).padStart(8, '0')}`);

/**
 * The suppression list's API over the whole stack: adding (once, even at once), listing with
 * masked numbers, removing with its history kept, importing all or nothing, exporting, scopes.
 */
describe('Suppressions (e2e)', () => {
  let h: Harness;
  let readKey: string;
  let writeKey: string;
  let otherTeamKey: string;
  let noScopeKey: string;

  async function createKey(team: string, scopes: string[]): Promise<string> {
    const res = await h.api('POST', '/v1/api-keys', {
      body: { name: `${team}-suppressions`, team, scopes },
    });
    expect(res.status).toBe(201);
    return res.body.key;
  }

  const add = (body: Record<string, unknown>, key = writeKey) =>
    h.api('POST', '/v1/suppressions', { key, body });
  const importCsv = (csv: string, query = '') =>
    h.api('POST', `/v1/suppressions/import${query}`, {
      key: writeKey,
      rawBody: csv,
      headers: { 'content-type': 'text/csv' },
    });
  const liveRows = (to: string) =>
    h.sql<{ scope: string }>(
      `SELECT scope FROM suppressions WHERE recipient = $1 AND removed_at IS NULL`,
      [to],
    );

  beforeAll(async () => {
    h = await startHarness();
    readKey = await createKey('support', ['suppressions:read']);
    writeKey = await createKey('crm', ['suppressions:read', 'suppressions:write']);
    otherTeamKey = await createKey('checkout', ['suppressions:read', 'suppressions:write']);
    noScopeKey = await createKey('checkout', ['notifications:read']);
  });

  afterAll(() => h?.close());

  describe('adding', () => {
    it('answers 201 with the entry, who added it and when', async () => {
      const res = await add({
        to: '+4915100000001',
        scope: 'marketing',
        reason: 'Asked by phone',
        source: 'crm',
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        to: '+4915100000001',
        scope: 'marketing',
        reason: 'Asked by phone',
        source: 'crm',
        created_by_team: 'crm',
        removed_at: null,
      });
      expect(res.body.created_by_key).toEqual(expect.any(String));
      expect(Date.parse(res.body.created_at)).toBeGreaterThan(Date.now() - 60_000);
    });

    it('answers 200 with the live entry when the number and scope are listed already', async () => {
      const first = await add({ to: '+4915100000002', scope: 'all' });
      expect(first.status).toBe(201);
      const again = await add(
        { to: '+4915100000002', scope: 'all', reason: 'twice' },
        otherTeamKey,
      );
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id: first.body.id, reason: null, created_by_team: 'crm' });
      // Another scope is another entry.
      expect((await add({ to: '+4915100000002', scope: 'marketing' })).status).toBe(201);
      expect((await liveRows('+4915100000002')).map((r) => r.scope).sort()).toEqual([
        'all',
        'marketing',
      ]);
    });

    it('keeps one entry when the same number is added many times at once', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () => add({ to: '+4915100000003', scope: 'marketing' })),
      );
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(11);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
      expect(await liveRows('+4915100000003')).toHaveLength(1);
    });

    it('refuses a number not in E.164 as intake does, and a bad scope or long reason', async () => {
      for (const to of ['4915100000004', '+49 151 00000004', '+1555', 'tel:+4915100000004']) {
        const res = await add({ to, scope: 'all' });
        expect([to, res.status, res.body.error.code]).toEqual([to, 422, 'invalid_phone_number']);
      }
      const scope = await add({ to: '+4915100000004', scope: 'otp' });
      expect([scope.status, scope.body.error.code]).toEqual([400, 'validation_failed']);
      const long = await add({ to: '+4915100000004', scope: 'all', reason: 'x'.repeat(501) });
      expect([long.status, long.body.error.code]).toEqual([400, 'validation_failed']);
      const missing = await add({ scope: 'all' });
      expect(missing.status).toBe(400);
    });
  });

  describe('listing', () => {
    const listed = mobiles(20_000_000, 5);

    beforeAll(async () => {
      for (const to of listed) expect((await add({ to, scope: 'all' })).status).toBe(201);
    });

    it('masks numbers in the list, newest first', async () => {
      const res = await h.api('GET', '/v1/suppressions?limit=5', { key: readKey });
      expect(res.status).toBe(200);
      expect(res.body.data.map((e: { to: string }) => e.to)).toEqual(
        [...listed].reverse().map((to) => `${to.slice(0, 3)}*******${to.slice(-4)}`),
      );
      expect(res.text).not.toContain(listed[0]);
    });

    it('shows the number whole on an exact lookup, whatever team asks', async () => {
      const res = await h.api('GET', `/v1/suppressions?to=${encodeURIComponent(listed[2])}`, {
        key: readKey,
      });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([
        expect.objectContaining({ to: listed[2], scope: 'all', created_by_team: 'crm' }),
      ]);
      const bad = await h.api('GET', '/v1/suppressions?to=12345', { key: readKey });
      expect([bad.status, bad.body.error.code]).toEqual([422, 'invalid_phone_number']);
    });

    it('pages by cursor without gaps or repeats, and filters by scope', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `&cursor=${cursor}` : '';
        const res = await h.api('GET', `/v1/suppressions?scope=all&limit=2${query}`, {
          key: readKey,
        });
        expect(res.status).toBe(200);
        for (const e of res.body.data) {
          expect(e.scope).toBe('all');
          seen.push(e.id);
        }
        cursor = res.body.next_cursor;
      } while (cursor);
      const all = await h.sql(
        `SELECT id FROM suppressions WHERE scope = 'all' AND removed_at IS NULL`,
      );
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.sort()).toEqual(all.map((r) => r.id).sort());

      const forged = await h.api('GET', '/v1/suppressions?cursor=bm9wZQ', { key: readKey });
      expect([forged.status, forged.body.error.code]).toEqual([422, 'invalid_cursor']);
      const tooMany = await h.api('GET', '/v1/suppressions?limit=201', { key: readKey });
      expect([tooMany.status, tooMany.body.error.code]).toEqual([422, 'invalid_limit']);
    });
  });

  describe('removing', () => {
    it('answers 204, stops listing the entry and keeps who removed it, when and why', async () => {
      const to = '+4915100000010';
      expect((await add({ to, scope: 'marketing', reason: 'STOP by email' })).status).toBe(201);
      const res = await h.api(
        'DELETE',
        `/v1/suppressions/${encodeURIComponent(to)}?scope=marketing&reason=${encodeURIComponent('Opted in again')}`,
        { key: otherTeamKey },
      );
      expect(res.status).toBe(204);
      const live = await h.api('GET', `/v1/suppressions?to=%2B4915100000010`, { key: readKey });
      expect(live.body.data).toEqual([]);
      const history = await h.api(
        'GET',
        `/v1/suppressions?to=%2B4915100000010&include_removed=true`,
        { key: readKey },
      );
      expect(history.body.data).toEqual([
        expect.objectContaining({
          to,
          reason: 'STOP by email',
          created_by_team: 'crm',
          removed_by_team: 'checkout',
          removal_reason: 'Opted in again',
        }),
      ]);
      expect(Date.parse(history.body.data[0].removed_at)).toBeGreaterThan(Date.now() - 60_000);
      // Listed again after a removal: a new entry, the old one stays history.
      expect((await add({ to, scope: 'marketing' })).status).toBe(201);
    });

    it('removes both scopes without scope, the + written literally', async () => {
      const to = '+4915100000011';
      await add({ to, scope: 'marketing' });
      await add({ to, scope: 'all' });
      const res = await h.api('DELETE', `/v1/suppressions/${to}`, { key: writeKey });
      expect(res.status).toBe(204);
      expect(await liveRows(to)).toEqual([]);
    });

    it('answers 404 when the number has no live entry, 422 for a bad number', async () => {
      const absent = await h.api('DELETE', '/v1/suppressions/%2B4915100000012', { key: writeKey });
      expect([absent.status, absent.body.error.code]).toEqual([404, 'suppression_not_found']);
      await add({ to: '+4915100000012', scope: 'all' });
      const otherScope = await h.api(
        'DELETE',
        '/v1/suppressions/%2B4915100000012?scope=marketing',
        {
          key: writeKey,
        },
      );
      expect([otherScope.status, otherScope.body.error.code]).toEqual([
        404,
        'suppression_not_found',
      ]);
      const bad = await h.api('DELETE', '/v1/suppressions/12345', { key: writeKey });
      expect([bad.status, bad.body.error.code]).toEqual([422, 'invalid_phone_number']);
    });
  });

  describe('importing', () => {
    it('imports all rows, skipping numbers listed already or repeated in the file', async () => {
      await add({ to: '+4915100000020', scope: 'all' });
      const res = await importCsv(
        'to,scope,reason\r\n+4915100000020,all,already\r\n+4915100000021,marketing,"Says ""no"", twice"\r\n' +
          '+4915100000021,marketing,\r\n+4915100000022,all,\r\n',
        '?source=shop',
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ imported: 2, skipped: 2 });
      const lookup = await h.api('GET', '/v1/suppressions?to=%2B4915100000021', { key: readKey });
      expect(lookup.body.data).toEqual([
        expect.objectContaining({
          reason: 'Says "no", twice',
          source: 'shop',
          created_by_team: 'crm',
        }),
      ]);
    });

    it('imports nothing when any line is bad, naming each bad line', async () => {
      const res = await importCsv(
        'to,scope,reason\n+4915100000030,all,\n4915100000031,all,\n+4915100000032,sometimes,\n' +
          '+4915100000033,all,ok\n',
      );
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('invalid_csv');
      expect(res.body.error.details).toMatchObject({
        problem_count: 2,
        problems: [
          { line: 3, problem: expect.stringContaining('E.164') },
          { line: 4, problem: 'scope must be marketing or all' },
        ],
      });
      expect(await liveRows('+4915100000030')).toEqual([]);
      expect(await liveRows('+4915100000033')).toEqual([]);
      const headless = await importCsv('+4915100000030,all,\n');
      expect(headless.body.error.details.problems[0]).toMatchObject({ line: 1 });
    });

    it('takes text/csv on the import only, and nothing but text/csv there', async () => {
      const json = await h.api('POST', '/v1/suppressions/import', {
        key: writeKey,
        body: { to: '+4915100000040', scope: 'all' },
      });
      expect([json.status, json.body.error.code]).toEqual([415, 'unsupported_media_type']);
      const elsewhere = await h.api('POST', '/v1/suppressions', {
        key: writeKey,
        rawBody: 'to,scope\n+4915100000040,all\n',
        headers: { 'content-type': 'text/csv' },
      });
      expect([elsewhere.status, elsewhere.body.error.code]).toEqual([
        415,
        'unsupported_media_type',
      ]);
      // The import's own limit is 8 MiB; JSON keeps the service-wide 1 MiB, there too.
      const huge = await importCsv(`to,scope\n${'x'.repeat(9 * 1024 * 1024)}`);
      expect([huge.status, huge.body.error.code]).toEqual([413, 'payload_too_large']);
      const bigJson = await h.api('POST', '/v1/suppressions/import', {
        key: writeKey,
        rawBody: JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }),
      });
      expect([bigJson.status, bigJson.body.error.code]).toEqual([413, 'payload_too_large']);
    });

    it('imports 100,000 rows in one go, and refuses one row more', async () => {
      const rows = mobiles(30_000_000, 100_000);
      const csv = `to,scope,reason\n${rows.map((to) => `${to},marketing,bulk`).join('\n')}\n`;
      const started = Date.now();
      const res = await importCsv(csv);
      const elapsedMs = Date.now() - started;
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ imported: 100_000, skipped: 0 });
      // The figure the issue's closing note reports; the bound keeps a regression visible.
      process.stdout.write(`suppressions import: 100,000 rows in ${elapsedMs} ms\n`);
      expect(elapsedMs).toBeLessThan(60_000);
      const [{ n }] = await h.sql(
        `SELECT count(*)::int AS n FROM suppressions WHERE source = 'csv_import' AND reason = 'bulk'`,
      );
      expect(n).toBe(100_000);

      const over = await importCsv(`${csv}+4915199999999,all,\n`);
      expect([over.status, over.body.error.code]).toEqual([422, 'too_many_rows']);
    }, 120_000);
  });

  describe('exporting', () => {
    it('writes every live entry unmasked, and the file imports back as it was', async () => {
      const res = await h.api('GET', '/v1/suppressions/export', { key: readKey });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      expect(res.headers.get('content-disposition')).toContain('suppressions.csv');
      const lines = res.text.trimEnd().split('\r\n');
      expect(lines[0]).toBe('to,scope,reason,source,created_at');
      const [{ n }] = await h.sql(
        `SELECT count(*)::int AS n FROM suppressions WHERE removed_at IS NULL`,
      );
      expect(lines).toHaveLength(n + 1);
      expect(lines).toContainEqual(
        expect.stringMatching(/^\+4915100000021,marketing,"Says ""no"", twice",shop,/),
      );

      // Emptied and filled again from the export (the bulk import's rows aside, an import
      // takes at most 100,000), the list is what it was.
      const live = `SELECT recipient, scope, reason, source FROM suppressions
        WHERE removed_at IS NULL AND reason IS DISTINCT FROM 'bulk' ORDER BY recipient, scope`;
      const before = await h.sql(live);
      await h.sql(`UPDATE suppressions SET removed_at = now() WHERE removed_at IS NULL`);
      const file = `${lines.filter((line) => !line.includes(',bulk,')).join('\r\n')}\r\n`;
      const again = await importCsv(file);
      expect(again.body).toEqual({ imported: before.length, skipped: 0 });
      const after = await h.sql(live);
      // An entry that had no source takes the import's.
      expect(after).toEqual(before.map((e) => ({ ...e, source: e.source ?? 'csv_import' })));
    }, 60_000);
  });

  describe('scopes', () => {
    it('needs suppressions:read to read and suppressions:write to change the list', async () => {
      for (const [method, path] of [
        ['GET', '/v1/suppressions'],
        ['GET', '/v1/suppressions/export'],
      ]) {
        expect((await h.api(method, path, { key: noScopeKey })).status).toBe(403);
      }
      const post = await add({ to: '+4915100000050', scope: 'all' }, readKey);
      expect([post.status, post.body.error.code]).toEqual([403, 'forbidden']);
      const del = await h.api('DELETE', '/v1/suppressions/%2B4915100000050', { key: readKey });
      expect(del.status).toBe(403);
      const imp = await h.api('POST', '/v1/suppressions/import', {
        key: readKey,
        rawBody: 'to,scope\n+4915100000050,all\n',
        headers: { 'content-type': 'text/csv' },
      });
      expect(imp.status).toBe(403);
      // The admin key holds every scope.
      expect((await h.api('GET', '/v1/suppressions')).status).toBe(200);
    });
  });
});

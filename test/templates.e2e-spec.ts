import { type Harness, startHarness } from './support/harness';

describe('Templates API (e2e)', () => {
  let h: Harness;
  let readOnlyKey: string;

  beforeAll(async () => {
    h = await startHarness();
    const res = await h.api('POST', '/v1/api-keys', {
      body: { name: 'template-reader', team: 'ops', scopes: ['templates:read'] },
    });
    expect(res.status).toBe(201);
    readOnlyKey = res.body.key;
  });

  afterAll(async () => {
    await h.close();
  });

  describe('POST /v1/templates', () => {
    it('creates version 1 and lists the variables it uses', async () => {
      const res = await h.api('POST', '/v1/templates', {
        body: {
          key: 'order_shipped',
          body: 'Hi {{name}}, order {{order.id}} has shipped. {{#if tracking}}Track: {{tracking}}{{/if}}',
          sender_id: 'AcmeShop',
          description: 'Sent when the warehouse hands the parcel over',
        },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        key: 'order_shipped',
        version: 1,
        category: 'transactional',
        body: 'Hi {{name}}, order {{order.id}} has shipped. {{#if tracking}}Track: {{tracking}}{{/if}}',
        variables: ['name', 'order.id', 'tracking'],
        sender_id: 'AcmeShop',
        description: 'Sent when the warehouse hands the parcel over',
        smart_encoding: false,
        warnings: [],
        owner_team: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        archived: false,
      });
      expect(Number.isNaN(Date.parse(res.body.created_at))).toBe(false);
    });

    it('answers 409 template_exists for a key already taken', async () => {
      await create('dup_key', 'first');
      const res = await h.api('POST', '/v1/templates', {
        body: { key: 'dup_key', body: 'second' },
      });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ success: false, error: { code: 'template_exists' } });
    });

    it('gives one 201 and the rest 409 when the same key is created concurrently', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          h.api('POST', '/v1/templates', { body: { key: 'race_key', body: `body ${i}` } }),
        ),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409]);
    });

    it.each([
      ['uppercase letters', 'Order_Shipped'],
      ['a leading dash', '-order'],
      ['a space', 'order shipped'],
      ['65 characters', `a${'b'.repeat(64)}`],
    ])('refuses a key with %s (400 validation_failed)', async (_what, key) => {
      const res = await h.api('POST', '/v1/templates', { body: { key, body: 'Hello' } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('key');
    });

    it('refuses bad sender ids and accepts E.164 numbers', async () => {
      for (const sender of ['TwelveChars1', 'Acme Shop', '12345', '+1']) {
        const res = await h.api('POST', '/v1/templates', {
          body: { key: 'sender_test', body: 'Hello', sender_id: sender },
        });
        expect(res.status).toBe(400);
        expect(res.body.error.message).toContain('sender_id');
      }
      const ok = await h.api('POST', '/v1/templates', {
        body: { key: 'sender_test', body: 'Hello', sender_id: '+14155550100' },
      });
      expect(ok.status).toBe(201);
      expect(ok.body.sender_id).toBe('+14155550100');
    });

    it('refuses unknown fields and blank bodies (400)', async () => {
      const extra = await h.api('POST', '/v1/templates', {
        body: { key: 'extra_field', body: 'Hi', channel: 'sms' },
      });
      expect(extra.status).toBe(400);
      const blank = await h.api('POST', '/v1/templates', { body: { key: 'blank', body: '   ' } });
      expect(blank.status).toBe(400);
    });

    it("answers 422 invalid_template with the parser's message", async () => {
      const res = await h.api('POST', '/v1/templates', {
        body: { key: 'broken', body: 'Hello {{name' },
      });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('invalid_template');
      expect(res.body.error.message).toContain('Parse error on line 1');
      const unknownHelper = await h.api('POST', '/v1/templates', {
        body: { key: 'broken', body: 'Hello {{upper name}}' },
      });
      expect(unknownHelper.status).toBe(422);
      expect(unknownHelper.body.error.code).toBe('invalid_template');
    });
  });

  describe('versions', () => {
    it('PUT adds version 2, keeps version 1 readable and carries the sender over', async () => {
      await create('welcome', 'Welcome {{name}}!', { sender_id: 'Acme' });
      const put = await h.api('PUT', '/v1/templates/welcome', {
        body: { body: 'Welcome aboard, {{first_name}} {{last_name}}!' },
      });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({
        key: 'welcome',
        version: 2,
        variables: ['first_name', 'last_name'],
        sender_id: 'Acme',
      });

      const current = await h.api('GET', '/v1/templates/welcome');
      expect(current.status).toBe(200);
      expect(current.body).toMatchObject({
        version: 2,
        body: 'Welcome aboard, {{first_name}} {{last_name}}!',
      });

      const v1 = await h.api('GET', '/v1/templates/welcome/versions/1');
      expect(v1.status).toBe(200);
      expect(v1.body).toMatchObject({
        key: 'welcome',
        version: 1,
        body: 'Welcome {{name}}!',
        variables: ['name'],
        current: false,
      });
      const v2 = await h.api('GET', '/v1/templates/welcome/versions/2');
      expect(v2.body).toMatchObject({ version: 2, current: true });

      const all = await h.api('GET', '/v1/templates/welcome/versions');
      expect(all.status).toBe(200);
      expect(all.body.next_cursor).toBeNull();
      expect(
        all.body.data.map(
          (v: { version: number; body: string; sender_id: string; current: boolean }) => [
            v.version,
            v.body,
            v.sender_id,
            v.current,
          ],
        ),
      ).toEqual([
        [1, 'Welcome {{name}}!', 'Acme', false],
        [2, 'Welcome aboard, {{first_name}} {{last_name}}!', 'Acme', true],
      ]);
      expect(all.body.data[1]).toEqual(v2.body);
      expect((await h.api('GET', '/v1/templates/nope/versions')).body.error.code).toBe(
        'template_not_found',
      );
    });

    it('PUT with sender_id null clears it', async () => {
      await create('clear_sender', 'x', { sender_id: 'Acme' });
      const put = await h.api('PUT', '/v1/templates/clear_sender', {
        body: { body: 'y', sender_id: null },
      });
      expect(put.status).toBe(200);
      expect(put.body.sender_id).toBeNull();
    });

    it('gives concurrent PUTs distinct version numbers', async () => {
      await create('busy', 'v1');
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          h.api('PUT', '/v1/templates/busy', { body: { body: `edit ${i}` } }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      const versions = results.map((r) => r.body.version as number).sort((a, b) => a - b);
      expect(versions).toEqual([2, 3, 4, 5, 6, 7]);
      const current = await h.api('GET', '/v1/templates/busy');
      expect(current.body.version).toBe(7);
    });

    it('answers 404 for a missing version and 400 for a non-number', async () => {
      await create('few_versions', 'only one');
      const missing = await h.api('GET', '/v1/templates/few_versions/versions/2');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('template_version_not_found');
      const huge = await h.api('GET', '/v1/templates/few_versions/versions/99999999999');
      expect(huge.status).toBe(400);
      const word = await h.api('GET', '/v1/templates/few_versions/versions/latest');
      expect(word.status).toBe(400);
      expect(word.body.error.code).toBe('validation_failed');
    });

    it('answers 404 template_not_found for PUT and GET of an unknown key', async () => {
      const put = await h.api('PUT', '/v1/templates/nope', { body: { body: 'x' } });
      expect(put.status).toBe(404);
      expect(put.body.error.code).toBe('template_not_found');
      const get = await h.api('GET', '/v1/templates/nope');
      expect(get.status).toBe(404);
      expect(get.body.error.code).toBe('template_not_found');
    });
  });

  describe('GET /v1/templates', () => {
    it('lists active templates sorted by key', async () => {
      await create('list.b', 'b');
      await create('list.a', 'a');
      await create('list-c', 'c');
      const res = await h.api('GET', '/v1/templates');
      expect(res.status).toBe(200);
      const keys = (res.body.data as { key: string }[]).map((t) => t.key);
      expect(keys).toEqual([...keys].sort());
      expect(keys).toEqual(expect.arrayContaining(['list.a', 'list.b', 'list-c']));
      expect(res.body.data.find((t: { key: string }) => t.key === 'list.a')).toMatchObject({
        version: 1,
        body: 'a',
        archived: false,
      });
    });
  });

  describe('POST /v1/templates/:key/preview', () => {
    it('renders GSM-7 text with its segment count', async () => {
      await create('preview_gsm', 'Hi {{name}}, your code is {{code}}.');
      const res = await h.api('POST', '/v1/templates/preview_gsm/preview', {
        body: { variables: { name: 'Ada', code: 123456 } },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        text: 'Hi Ada, your code is 123456.',
        characters: 28,
        encoding: 'GSM-7',
        segments: 1,
        credits_per_recipient: 1,
        variables: ['name', 'code'],
        smart_encoding: false,
        original_text: null,
        replaced: [],
        warnings: [],
      });

      const long = await h.api('POST', '/v1/templates/preview_gsm/preview', {
        body: { variables: { name: 'A'.repeat(140), code: 1234 } },
      });
      expect(long.body).toMatchObject({ characters: 163, encoding: 'GSM-7', segments: 2 });
    });

    it('switches to UCS-2 for an emoji', async () => {
      await create('preview_ucs', 'Party time {{emoji}}');
      const res = await h.api('POST', '/v1/templates/preview_ucs/preview', {
        body: { variables: { emoji: '🎉' } },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        text: 'Party time 🎉',
        characters: 13,
        encoding: 'UCS-2',
        segments: 1,
        credits_per_recipient: 1,
        variables: ['emoji'],
        smart_encoding: false,
        original_text: null,
        replaced: [],
        warnings: [
          {
            code: 'forces_ucs2',
            characters: ['🎉'],
            segments_now: 1,
            segments_without: 1,
            replaceable: [],
          },
        ],
      });
    });

    it('does not HTML-escape', async () => {
      await create('preview_raw', 'Deal: {{offer}}');
      const res = await h.api('POST', '/v1/templates/preview_raw/preview', {
        body: { variables: { offer: `<b>Fish & "chips"</b> isn't £5` } },
      });
      expect(res.body.text).toBe(`Deal: <b>Fish & "chips"</b> isn't £5`);
    });

    it('answers 422 missing_variables listing every missing name', async () => {
      await create('preview_missing', 'Hi {{first_name}} {{last_name}}, {{greeting}}');
      const res = await h.api('POST', '/v1/templates/preview_missing/preview', {
        body: { variables: { greeting: 'hello', last_name: null } },
      });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({
        success: false,
        error: {
          code: 'missing_variables',
          message: expect.stringContaining('first_name'),
          details: { missing: ['first_name', 'last_name'] },
        },
      });
    });

    it('answers 422 message_too_long over 1600 rendered characters', async () => {
      await create('preview_long', 'Note: {{text}}');
      const ok = await h.api('POST', '/v1/templates/preview_long/preview', {
        body: { variables: { text: 'x'.repeat(1594) } },
      });
      expect(ok.status).toBe(200);
      expect(ok.body.characters).toBe(1600);
      const res = await h.api('POST', '/v1/templates/preview_long/preview', {
        body: { variables: { text: 'x'.repeat(1595) } },
      });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({
        code: 'message_too_long',
        details: { characters: 1601, max: 1600 },
      });
    });

    it('answers the nested each bomb with 422 message_too_long at once, preview and send', async () => {
      // 80 × 80 × 80 × 1,000 characters: 512 million, from a 250-byte request.
      await create(
        'each_bomb',
        `{{#each a}}{{#each @root.a}}{{#each @root.a}}${'x'.repeat(1000)}{{/each}}{{/each}}{{/each}}`,
      );
      const variables = { a: Array<number>(80).fill(0) };
      const started = Date.now();
      const preview = await h.api('POST', '/v1/templates/each_bomb/preview', {
        body: { variables },
      });
      const send = await h.api('POST', '/v1/notifications', {
        body: { template: 'each_bomb', to: '+14155550100', variables },
      });
      const elapsed = Date.now() - started;
      for (const res of [preview, send]) {
        expect(res.status).toBe(422);
        expect(res.body).toMatchObject({ success: false, error: { code: 'message_too_long' } });
      }
      // Two requests over HTTP on a shared machine; unbounded, one of them never answered.
      expect(elapsed).toBeLessThan(2000);
      expect((await h.api('GET', '/health', { key: null })).status).toBe(200);
    });

    it('answers 400 when variables is not an object', async () => {
      await create('preview_bad_vars', 'Hi {{name}}');
      const res = await h.api('POST', '/v1/templates/preview_bad_vars/preview', {
        body: { variables: ['Ada'] },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    });
  });

  describe('DELETE /v1/templates/:key', () => {
    it('archives: the template is then not found, and its key stays taken', async () => {
      await create('retired', 'Bye {{name}}');
      const del = await h.api('DELETE', '/v1/templates/retired');
      expect(del.status).toBe(204);
      expect(del.text).toBe('');

      const get = await h.api('GET', '/v1/templates/retired');
      expect(get.status).toBe(404);
      expect(get.body.error.code).toBe('template_not_found');
      const preview = await h.api('POST', '/v1/templates/retired/preview', {
        body: { variables: { name: 'x' } },
      });
      expect(preview.status).toBe(404);
      const put = await h.api('PUT', '/v1/templates/retired', { body: { body: 'again' } });
      expect(put.status).toBe(404);
      const again = await h.api('DELETE', '/v1/templates/retired');
      expect(again.status).toBe(404);
      const recreate = await h.api('POST', '/v1/templates', {
        body: { key: 'retired', body: 'x' },
      });
      expect(recreate.status).toBe(409);
      expect(recreate.body.error.code).toBe('template_exists');

      const list = await h.api('GET', '/v1/templates?limit=100');
      expect(list.body.data.map((t: { key: string }) => t.key)).not.toContain('retired');
      const withArchived = await h.api('GET', '/v1/templates?include_archived=true&limit=100');
      expect(withArchived.body.next_cursor).toBeNull();
      expect(
        withArchived.body.data.find((t: { key: string }) => t.key === 'retired'),
      ).toMatchObject({
        archived: true,
      });
      const history = await h.api('GET', '/v1/templates/retired/versions/1?include_archived=true');
      expect(history.status).toBe(200);
      expect(history.body.body).toBe('Bye {{name}}');
      expect((await h.api('GET', '/v1/templates/retired/versions')).status).toBe(404);
      const versions = await h.api('GET', '/v1/templates/retired/versions?include_archived=true');
      expect(versions.body.data.map((v: { body: string }) => v.body)).toEqual(['Bye {{name}}']);
    });

    it('makes new notification requests for it 404 template_not_found', async () => {
      await create('retired_send', 'Hello');
      await h.api('DELETE', '/v1/templates/retired_send');
      const res = await h.api('POST', '/v1/notifications', {
        body: { template: 'retired_send', to: '+14155550100' },
      });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('template_not_found');
    });
  });

  describe('auth', () => {
    it('lets a read-only key read and preview but not write (403)', async () => {
      await create('auth_read', 'Hi {{name}}');
      const get = await h.api('GET', '/v1/templates/auth_read', { key: readOnlyKey });
      expect(get.status).toBe(200);
      const preview = await h.api('POST', '/v1/templates/auth_read/preview', {
        key: readOnlyKey,
        body: { variables: { name: 'Ada' } },
      });
      expect(preview.status).toBe(200);

      const writes = await Promise.all([
        h.api('POST', '/v1/templates', { key: readOnlyKey, body: { key: 'auth_new', body: 'x' } }),
        h.api('PUT', '/v1/templates/auth_read', { key: readOnlyKey, body: { body: 'x' } }),
        h.api('DELETE', '/v1/templates/auth_read', { key: readOnlyKey }),
      ]);
      for (const res of writes) {
        expect(res.status).toBe(403);
        expect(res.body.success).toBe(false);
      }
      const unchanged = await h.api('GET', '/v1/templates/auth_read');
      expect(unchanged.body.version).toBe(1);
    });

    it('answers 401 without a key', async () => {
      const list = await h.api('GET', '/v1/templates', { key: null });
      expect(list.status).toBe(401);
      const create = await h.api('POST', '/v1/templates', {
        key: null,
        body: { key: 'anon', body: 'x' },
      });
      expect(create.status).toBe(401);
      expect(create.body).toMatchObject({ success: false, error: { code: 'unauthorized' } });
    });
  });

  describe('ownership by team', () => {
    const SCOPES = ['templates:read', 'templates:write', 'notifications:send'];
    let alpha: string;
    let beta: string;

    beforeAll(async () => {
      [alpha, beta] = await Promise.all(
        ['alpha', 'beta'].map(async (team) => {
          const res = await h.api('POST', '/v1/api-keys', {
            body: { name: `${team}-templates`, team, scopes: SCOPES },
          });
          expect(res.status).toBe(201);
          return res.body.key as string;
        }),
      );
    });

    const send = (key: string, template: string) =>
      h.api('POST', '/v1/notifications', {
        key,
        body: { template, to: '+14155550100', variables: { name: 'Ada' } },
      });

    it("keeps a team's template its own: to another team it does not exist", async () => {
      const made = await h.api('POST', '/v1/templates', {
        key: alpha,
        body: { key: 'alpha_tpl', body: 'Alpha says hi {{name}}' },
      });
      expect(made.status).toBe(201);
      expect(made.body.owner_team).toBe('alpha');

      for (const res of [
        await h.api('GET', '/v1/templates/alpha_tpl', { key: beta }),
        await h.api('GET', '/v1/templates/alpha_tpl/versions', { key: beta }),
        await h.api('GET', '/v1/templates/alpha_tpl/versions/1', { key: beta }),
        await h.api('POST', '/v1/templates/alpha_tpl/preview', {
          key: beta,
          body: { variables: { name: 'x' } },
        }),
        await h.api('PUT', '/v1/templates/alpha_tpl', {
          key: beta,
          body: { body: 'PWNED by beta {{name}}' },
        }),
        await h.api('DELETE', '/v1/templates/alpha_tpl', { key: beta }),
        await send(beta, 'alpha_tpl'),
      ]) {
        expect(res.status).toBe(404);
        expect(res.body).toMatchObject({ success: false, error: { code: 'template_not_found' } });
      }
      const list = await h.api('GET', '/v1/templates?limit=100', { key: beta });
      expect(list.body.data.map((t: { key: string }) => t.key)).not.toContain('alpha_tpl');
      // Keys are unique per owner: beta may make its own of that key, in its own namespace.
      const taken = await h.api('POST', '/v1/templates', {
        key: beta,
        body: { key: 'alpha_tpl', body: 'mine now' },
      });
      expect(taken.status).toBe(201);
      expect(taken.body.owner_team).toBe('beta');

      // Alpha's template is untouched and alpha sends with it; an admin sees it by naming alpha.
      const mine = await h.api('GET', '/v1/templates/alpha_tpl', { key: alpha });
      expect(mine.body).toMatchObject({ version: 1, body: 'Alpha says hi {{name}}' });
      expect((await send(alpha, 'alpha_tpl')).status).toBe(202);
      expect((await h.api('GET', '/v1/templates/alpha_tpl?owner_team=alpha')).status).toBe(200);
      const rows = await h.sql(
        `SELECT owner_team FROM templates WHERE key = 'alpha_tpl' ORDER BY owner_team`,
      );
      expect(rows).toEqual([{ owner_team: 'alpha' }, { owner_team: 'beta' }]);
    });

    it('shares an admin template with every team, but only admins change it', async () => {
      await create('shared_tpl', 'Shared hello {{name}}');
      expect((await h.api('GET', '/v1/templates/shared_tpl', { key: beta })).body).toMatchObject({
        owner_team: null,
      });
      expect((await send(beta, 'shared_tpl')).status).toBe(202);
      for (const res of [
        await h.api('PUT', '/v1/templates/shared_tpl', { key: beta, body: { body: 'x' } }),
        await h.api('DELETE', '/v1/templates/shared_tpl', { key: beta }),
      ]) {
        expect(res.status).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
      }
      const after = await h.api('GET', '/v1/templates/shared_tpl', { key: alpha });
      expect(after.body).toMatchObject({ version: 1, archived: false });
      const changed = await h.api('PUT', '/v1/templates/shared_tpl', {
        body: { body: 'v2 {{name}}' },
      });
      expect(changed.status).toBe(200);
    });

    it('lets the owning team change and archive its template', async () => {
      await h.api('POST', '/v1/templates', { key: alpha, body: { key: 'alpha_own', body: 'a' } });
      const changed = await h.api('PUT', '/v1/templates/alpha_own', {
        key: alpha,
        body: { body: 'b' },
      });
      expect(changed.body).toMatchObject({ version: 2, owner_team: 'alpha' });
      expect((await h.api('DELETE', '/v1/templates/alpha_own', { key: alpha })).status).toBe(204);
    });
  });

  async function create(key: string, body: string, extra: Record<string, unknown> = {}) {
    const res = await h.api('POST', '/v1/templates', { body: { key, body, ...extra } });
    expect(res.status).toBe(201);
    return res.body;
  }
});

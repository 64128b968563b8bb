import { type Harness, startHarness, waitForFinal } from './support/harness';

/**
 * Drafts, publish, roll back, diff and test sends (issue #22 items 1 and 5): a draft changes
 * nothing for callers until it is published; a roll back is a new version; a test send is a real,
 * delivered notification marked as a test.
 */
describe('Template drafts, versions and test sends (e2e)', () => {
  let h: Harness;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness();
    for (const team of ['checkout', 'growth']) {
      const res = await h.api('POST', '/v1/api-keys', {
        body: {
          name: `${team}-editor`,
          team,
          scopes: ['templates:read', 'templates:write', 'notifications:send', 'notifications:read'],
        },
      });
      expect(res.status).toBe(201);
      keys[team] = res.body.key as string;
    }
  });
  afterAll(() => h.close());

  async function create(key: string, body: string, options: { key?: string } = {}) {
    const res = await h.api('POST', '/v1/templates', { body: { key, body }, key: options.key });
    expect(res.status).toBe(201);
  }

  /** What a caller's notification of `key` puts on the wire, once delivered. */
  async function sentText(key: string, to: string, apiKey?: string): Promise<string> {
    const res = await h.api('POST', '/v1/notifications', {
      body: { template: key, to, variables: { name: 'Ada' } },
      key: apiKey,
    });
    expect(res.status).toBe(202);
    await waitForFinal(h, res.body.id);
    const received: { to: string; message: string }[] = await h.sandboxAdmin('GET', '/messages');
    const mine = received.filter((m) => m.to === to);
    expect(mine).toHaveLength(1);
    return mine[0].message;
  }

  describe('drafts', () => {
    it('stay invisible to callers until published, then are the next version', async () => {
      await create('draft_ship', 'Hi {{name}}, your order shipped.');
      const draft = await h.api('POST', '/v1/templates/draft_ship/drafts', {
        body: { body: 'Hi {{name}}, your parcel is on its way…', smart_encoding: true },
      });
      expect(draft.status).toBe(201);
      expect(draft.body).toMatchObject({
        id: expect.any(String),
        key: 'draft_ship',
        based_on_version: 1,
        body: 'Hi {{name}}, your parcel is on its way…',
        variables: ['name'],
        category: 'transactional',
        smart_encoding: true,
        warnings: [],
      });
      const id = draft.body.id as string;

      // Callers: the template, its versions and what is sent are as before.
      const template = await h.api('GET', '/v1/templates/draft_ship');
      expect(template.body).toMatchObject({ version: 1, body: 'Hi {{name}}, your order shipped.' });
      const versions = await h.api('GET', '/v1/templates/draft_ship/versions');
      expect(versions.body.data).toHaveLength(1);
      expect(await sentText('draft_ship', '+14155550301')).toBe('Hi Ada, your order shipped.');

      // The draft previews as it would be sent.
      const preview = await h.api('POST', `/v1/templates/draft_ship/drafts/${id}/preview`, {
        body: { variables: { name: 'Ada' } },
      });
      expect(preview.body).toMatchObject({
        text: 'Hi Ada, your parcel is on its way...',
        original_text: 'Hi Ada, your parcel is on its way…',
        encoding: 'GSM-7',
      });
      const listed = await h.api('GET', '/v1/templates/draft_ship/drafts');
      expect(listed.body.data.map((d: { id: string }) => d.id)).toEqual([id]);

      const published = await h.api('POST', `/v1/templates/draft_ship/drafts/${id}/publish`);
      expect(published.status).toBe(200);
      expect(published.body).toMatchObject({
        version: 2,
        body: 'Hi {{name}}, your parcel is on its way…',
        smart_encoding: true,
      });
      expect((await h.api('GET', '/v1/templates/draft_ship/drafts')).body.data).toEqual([]);
      expect((await h.api('GET', `/v1/templates/draft_ship/drafts/${id}`)).status).toBe(404);
      expect(await sentText('draft_ship', '+14155550302')).toBe(
        'Hi Ada, your parcel is on its way...',
      );
    });

    it('refuses to publish over a version made after the draft was saved (409 draft_outdated)', async () => {
      await create('draft_race', 'one');
      const draft = await h.api('POST', '/v1/templates/draft_race/drafts', {
        body: { body: 'draft' },
      });
      await h.api('PUT', '/v1/templates/draft_race', { body: { body: 'two' } });

      const refused = await h.api(
        'POST',
        `/v1/templates/draft_race/drafts/${draft.body.id}/publish`,
      );
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({
        code: 'draft_outdated',
        details: { based_on_version: 1, current_version: 2 },
      });
      expect((await h.api('GET', '/v1/templates/draft_race')).body.body).toBe('two');

      // Saving it again is the author's look at version 2: it is now based on it.
      const saved = await h.api('PUT', `/v1/templates/draft_race/drafts/${draft.body.id}`, {
        body: { body: 'draft, again' },
      });
      expect(saved.body).toMatchObject({ based_on_version: 2, body: 'draft, again' });
      const published = await h.api(
        'POST',
        `/v1/templates/draft_race/drafts/${draft.body.id}/publish`,
      );
      expect(published.body).toMatchObject({ version: 3, body: 'draft, again' });
    });

    it('publish once when published twice at the same time: one version, the other 404', async () => {
      await create('draft_twice', 'v1');
      const draft = await h.api('POST', '/v1/templates/draft_twice/drafts', {
        body: { body: 'v2' },
      });
      const path = `/v1/templates/draft_twice/drafts/${draft.body.id}/publish`;
      const results = await Promise.all([h.api('POST', path), h.api('POST', path)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 404]);
      expect(results.find((r) => r.status === 404)?.body.error.code).toBe(
        'template_draft_not_found',
      );
      const versions = await h.api('GET', '/v1/templates/draft_twice/versions');
      expect(versions.body.data.map((v: { body: string }) => v.body)).toEqual(['v1', 'v2']);
    });

    it('are discarded without a trace in the versions, and refuse bad bodies like PUT', async () => {
      await create('draft_discard', 'kept');
      const draft = await h.api('POST', '/v1/templates/draft_discard/drafts', {
        body: { body: 'thrown away' },
      });
      expect(
        (await h.api('DELETE', `/v1/templates/draft_discard/drafts/${draft.body.id}`)).status,
      ).toBe(204);
      expect(
        (await h.api('DELETE', `/v1/templates/draft_discard/drafts/${draft.body.id}`)).status,
      ).toBe(404);
      const invalid = await h.api('POST', '/v1/templates/draft_discard/drafts', {
        body: { body: 'Hi {{#each}}' },
      });
      expect(invalid.status).toBe(422);
      expect(invalid.body.error.code).toBe('invalid_template');
      const badId = await h.api('GET', '/v1/templates/draft_discard/drafts/not-a-uuid');
      expect(badId.status).toBe(400);
      expect((await h.api('GET', '/v1/templates/draft_discard/versions')).body.data).toHaveLength(
        1,
      );
    });

    it("belong to the team that owns the template: others get 404, shared ones are admins' (403)", async () => {
      await create('draft_team', 'checkout text', { key: keys.checkout });
      const own = await h.api('POST', '/v1/templates/draft_team/drafts', {
        body: { body: 'checkout draft' },
        key: keys.checkout,
      });
      expect(own.status).toBe(201);

      for (const [method, path] of [
        ['GET', '/v1/templates/draft_team/drafts'],
        ['GET', `/v1/templates/draft_team/drafts/${own.body.id}`],
        ['POST', `/v1/templates/draft_team/drafts/${own.body.id}/publish`],
        ['POST', `/v1/templates/draft_team/drafts/${own.body.id}/test`],
        ['POST', '/v1/templates/draft_team/test'],
      ] as const) {
        const res = await h.api(method, path, {
          key: keys.growth,
          ...(method === 'POST' ? { body: { to: '+14155550309' } } : {}),
        });
        expect([path, res.status]).toEqual([path, 404]);
        expect(res.body.error.code).toBe('template_not_found');
      }

      await create('draft_shared', 'shared text');
      const onShared = await h.api('POST', '/v1/templates/draft_shared/drafts', {
        body: { body: 'a team draft' },
        key: keys.growth,
      });
      expect(onShared.status).toBe(403);
    });

    it(`stop at 20 per template (409 too_many_drafts)`, async () => {
      await create('draft_many', 'base');
      for (let i = 0; i < 20; i++) {
        const res = await h.api('POST', '/v1/templates/draft_many/drafts', {
          body: { body: `d${i}` },
        });
        expect(res.status).toBe(201);
      }
      const refused = await h.api('POST', '/v1/templates/draft_many/drafts', {
        body: { body: 'd20' },
      });
      expect(refused.status).toBe(409);
      expect(refused.body.error).toMatchObject({ code: 'too_many_drafts', details: { max: 20 } });
    });
  });

  describe('versions', () => {
    it('roll back as a new version equal to the old one, history untouched', async () => {
      await create('roll', 'Version one for {{name}}');
      await h.api('PUT', '/v1/templates/roll', {
        body: { body: 'Version two for {{name}}', sender_id: 'Acme' },
      });
      await h.api('PUT', '/v1/templates/roll', { body: { body: 'Version three, {{name}}' } });

      const restored = await h.api('POST', '/v1/templates/roll/versions/1/restore');
      expect(restored.status).toBe(200);
      expect(restored.body).toMatchObject({
        version: 4,
        body: 'Version one for {{name}}',
        sender_id: null,
      });

      const versions = await h.api('GET', '/v1/templates/roll/versions');
      expect(
        versions.body.data.map((v: { version: number; body: string }) => [v.version, v.body]),
      ).toEqual([
        [1, 'Version one for {{name}}'],
        [2, 'Version two for {{name}}'],
        [3, 'Version three, {{name}}'],
        [4, 'Version one for {{name}}'],
      ]);
      expect(await sentText('roll', '+14155550311')).toBe('Version one for Ada');

      const missing = await h.api('POST', '/v1/templates/roll/versions/9/restore');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('template_version_not_found');
      expect((await h.api('GET', '/v1/templates/roll')).body.version).toBe(4);
    });

    it('diff: both versions, the fields that differ and a word diff of the bodies', async () => {
      const diff = await h.api('GET', '/v1/templates/roll/diff?from=2&to=3');
      expect(diff.status).toBe(200);
      expect(diff.body.from).toMatchObject({ version: 2, body: 'Version two for {{name}}' });
      expect(diff.body.to).toMatchObject({ version: 3, body: 'Version three, {{name}}' });
      expect(diff.body.changed).toEqual(['body']);
      expect(diff.body.body_diff).toEqual([
        { op: 'equal', text: 'Version ' },
        { op: 'delete', text: 'two for ' },
        { op: 'insert', text: 'three, ' },
        { op: 'equal', text: '{{name}}' },
      ]);

      const same = await h.api('GET', '/v1/templates/roll/diff?from=1&to=4');
      expect(same.body).toMatchObject({
        changed: [],
        body_diff: [{ op: 'equal', text: 'Version one for {{name}}' }],
      });
      expect((await h.api('GET', '/v1/templates/roll/diff?from=1&to=9')).status).toBe(404);
      for (const bad of ['from=0&to=2', 'from=1&to=2147483648', 'from=1.5&to=2', 'from=1']) {
        const res = await h.api('GET', `/v1/templates/roll/diff?${bad}`);
        expect([bad, res.status, res.body.error.code]).toEqual([bad, 400, 'validation_failed']);
      }
    });
  });

  describe('test sends', () => {
    it('send the current version to one number: delivered, and marked as a test', async () => {
      await create('tested', 'Hi {{name}}, test me');
      const res = await h.api('POST', '/v1/templates/tested/test', {
        body: { to: '+14155550321', variables: { name: 'Ada' } },
        key: keys.checkout,
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ template: 'tested', template_version: 1 });
      const done = await waitForFinal(h, res.body.id);
      expect(done).toMatchObject({
        test: true,
        team: 'checkout',
        messages: [{ status: 'delivered' }],
      });
      // The timeline says so too, from its first entry.
      expect(done.messages[0].events[0]).toMatchObject({
        type: 'accepted',
        details: { test: true },
      });

      // A caller's own notification is not a test.
      const normal = await h.api('POST', '/v1/notifications', {
        body: { template: 'tested', to: '+14155550322', variables: { name: 'Ada' } },
      });
      const normalView = await h.api('GET', `/v1/notifications/${normal.body.id}`);
      expect(normalView.body.test).toBe(false);
      expect(normalView.body.messages[0].events[0].details).not.toHaveProperty('test');
    });

    it('send a draft (version 0) while callers keep the published text', async () => {
      await create('tested_draft', 'Published {{name}}');
      const draft = await h.api('POST', '/v1/templates/tested_draft/drafts', {
        body: { body: 'Draft “{{name}}”', smart_encoding: true },
      });
      const res = await h.api('POST', `/v1/templates/tested_draft/drafts/${draft.body.id}/test`, {
        body: { to: '+14155550331', variables: { name: 'Ada' } },
      });
      expect(res.status).toBe(202);
      expect(res.body.template_version).toBe(0);
      const done = await waitForFinal(h, res.body.id);
      expect(done).toMatchObject({
        test: true,
        messages: [{ status: 'delivered', encoding: 'GSM-7' }],
      });
      const received: { to: string; message: string }[] = await h.sandboxAdmin('GET', '/messages');
      expect(received.filter((m) => m.to === '+14155550331').map((m) => m.message)).toEqual([
        'Draft "Ada"',
      ]);
      expect(await sentText('tested_draft', '+14155550332')).toBe('Published Ada');
    });

    it('go through intake: a bad number or missing variables are refused as for any caller', async () => {
      await create('tested_bad', 'Hi {{name}}');
      const badNumber = await h.api('POST', '/v1/templates/tested_bad/test', {
        body: { to: '0800 FLOWERS', variables: { name: 'Ada' } },
      });
      expect(badNumber.status).toBe(422);
      expect(badNumber.body.error.code).toBe('invalid_phone_number');
      const missing = await h.api('POST', '/v1/templates/tested_bad/test', {
        body: { to: '+14155550341' },
      });
      expect(missing.status).toBe(422);
      expect(missing.body.error).toMatchObject({
        code: 'missing_variables',
        details: { missing: ['name'] },
      });
    });

    it('need templates:write', async () => {
      const reader = await h.api('POST', '/v1/api-keys', {
        body: {
          name: 'reader',
          team: 'checkout',
          scopes: ['templates:read', 'notifications:send'],
        },
      });
      const res = await h.api('POST', '/v1/templates/tested/test', {
        body: { to: '+14155550351', variables: { name: 'Ada' } },
        key: reader.body.key,
      });
      expect(res.status).toBe(403);
    });
  });
});

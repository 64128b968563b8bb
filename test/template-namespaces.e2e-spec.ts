import { type ApiResponse, type Harness, startHarness } from './support/harness';

/**
 * Template keys per owner (issue 17, class 7). Keys used to be one namespace across teams: a 409
 * told one team that another team's private key existed, and a team could take a key so that an
 * admin could not create the shared template of that name.
 */
describe('Template keys per owner (e2e)', () => {
  const SCOPES = ['templates:read', 'templates:write', 'notifications:send', 'notifications:read'];
  let h: Harness;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness();
    for (const team of ['alpha', 'beta', 'gamma', 'delta']) {
      const res = await h.api('POST', '/v1/api-keys', {
        body: { name: `${team}-templates`, team, scopes: SCOPES },
      });
      expect(res.status).toBe(201);
      keys[team] = res.body.key as string;
    }
  });

  afterAll(() => h?.close());

  /** `team` is a team of the test, or 'admin' for the admin key. */
  const as = (team: string) => (team === 'admin' ? {} : { key: keys[team] });
  const create = (team: string, body: Record<string, unknown>) =>
    h.api('POST', '/v1/templates', { ...as(team), body });
  const get = (team: string, path: string) => h.api('GET', path, as(team));
  /** Sends `template` to one number as `team`; resolves to the text the message was given. */
  async function sentText(team: string, template: string): Promise<string> {
    const res = await h.api('POST', '/v1/notifications', {
      ...as(team),
      body: { template, to: '+14155550100', variables: { name: 'Ada' } },
    });
    expect(res.status).toBe(202);
    const [row] = await h.sql<{ body: string }>(
      'SELECT body FROM messages WHERE notification_id = $1',
      [res.body.id],
    );
    return row.body;
  }
  /** Every template `team` lists, page by page. */
  async function listAll(team: string, query = ''): Promise<{ key: string; owner_team: string }[]> {
    const all: { key: string; owner_team: string }[] = [];
    let cursor: string | null = null;
    do {
      const page: ApiResponse = await get(
        team,
        `/v1/templates?limit=100${query}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      all.push(...page.body.data);
      cursor = page.body.next_cursor;
    } while (cursor);
    return all;
  }

  it('gives a second team the key another team has, in its own namespace and without a 409', async () => {
    const first = await create('alpha', { key: 'welcome', body: 'Alpha welcome {{name}}' });
    expect(first.status).toBe(201);
    expect(first.body.owner_team).toBe('alpha');

    // The attack: beta probes for alpha's key. It used to answer 409 template_exists.
    const second = await create('beta', { key: 'welcome', body: 'Beta welcome {{name}}' });
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ key: 'welcome', version: 1, owner_team: 'beta' });

    // A 409 speaks of the caller's own namespace only.
    const again = await create('beta', { key: 'welcome', body: 'twice' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'template_exists',
      details: { key: 'welcome', owner_team: 'beta' },
    });
    expect(again.body.error.message).not.toContain('alpha');

    // Each team reads, previews and sends its own.
    expect((await get('alpha', '/v1/templates/welcome')).body).toMatchObject({
      body: 'Alpha welcome {{name}}',
      owner_team: 'alpha',
    });
    expect((await get('beta', '/v1/templates/welcome')).body).toMatchObject({
      body: 'Beta welcome {{name}}',
      owner_team: 'beta',
    });
    const preview = await h.api('POST', '/v1/templates/welcome/preview', {
      ...as('beta'),
      body: { variables: { name: 'Ada' } },
    });
    expect(preview.body.text).toBe('Beta welcome Ada');
    expect(await sentText('alpha', 'welcome')).toBe('Alpha welcome Ada');
    expect(await sentText('beta', 'welcome')).toBe('Beta welcome Ada');

    // A change by one team leaves the other's template as it was.
    const put = await h.api('PUT', '/v1/templates/welcome', {
      ...as('beta'),
      body: { body: 'Beta welcome v2 {{name}}' },
    });
    expect(put.body).toMatchObject({ version: 2, owner_team: 'beta' });
    expect((await get('alpha', '/v1/templates/welcome')).body.version).toBe(1);
  });

  it("answers another team's private key exactly as a key nobody has (404 on every route)", async () => {
    expect((await create('alpha', { key: 'alpha_secret', body: 'Secret {{name}}' })).status).toBe(
      201,
    );
    const probe = async (key: string) => [
      await get('beta', `/v1/templates/${key}`),
      await get('beta', `/v1/templates/${key}?include_archived=true`),
      await get('beta', `/v1/templates/${key}/versions`),
      await get('beta', `/v1/templates/${key}/versions/1`),
      await h.api('POST', `/v1/templates/${key}/preview`, {
        ...as('beta'),
        body: { variables: { name: 'x' } },
      }),
      await h.api('PUT', `/v1/templates/${key}`, { ...as('beta'), body: { body: 'x {{name}}' } }),
      await h.api('DELETE', `/v1/templates/${key}`, as('beta')),
      await h.api('POST', '/v1/notifications', {
        ...as('beta'),
        body: { template: key, to: '+14155550100', variables: { name: 'x' } },
      }),
    ];
    const secret = await probe('alpha_secret');
    const nobody = await probe('nobody_has');
    for (const [i, res] of secret.entries()) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('template_not_found');
      expect(JSON.stringify(res.body).replaceAll('alpha_secret', 'K')).toBe(
        JSON.stringify(nobody[i].body).replaceAll('nobody_has', 'K'),
      );
    }
    expect((await listAll('beta')).map((t) => t.key)).not.toContain('alpha_secret');

    // Naming another team's namespace is refused whatever it holds: nothing to learn from it.
    for (const key of ['alpha_secret', 'nobody_has']) {
      const named = await get('beta', `/v1/templates/${key}?owner_team=alpha`);
      expect(named.status).toBe(403);
      expect(named.body.error.code).toBe('forbidden');
    }
    expect((await get('beta', '/v1/templates?owner_team=alpha')).status).toBe(403);
    const plant = await create('beta', { key: 'planted', body: 'x', owner_team: 'alpha' });
    expect(plant.status).toBe(403);

    // Alpha's template is untouched.
    expect((await get('alpha', '/v1/templates/alpha_secret')).body).toMatchObject({
      version: 1,
      archived: false,
    });
  });

  it('lets an admin create the shared template although teams hold the key privately', async () => {
    await create('alpha', { key: 'greeting', body: 'Alpha greeting {{name}}' });
    await create('beta', { key: 'greeting', body: 'Beta greeting {{name}}' });

    // The attack: a team took the key first. It used to make the admin's create a 409.
    const shared = await create('admin', { key: 'greeting', body: 'Shared greeting {{name}}' });
    expect(shared.status).toBe(201);
    expect(shared.body.owner_team).toBeNull();
    expect((await create('admin', { key: 'greeting', body: 'twice' })).body.error).toMatchObject({
      code: 'template_exists',
      details: { key: 'greeting', owner_team: null },
    });

    // A team with its own keeps it; a team without resolves the shared one.
    expect(await sentText('alpha', 'greeting')).toBe('Alpha greeting Ada');
    expect(await sentText('beta', 'greeting')).toBe('Beta greeting Ada');
    expect(await sentText('gamma', 'greeting')).toBe('Shared greeting Ada');
    expect((await get('gamma', '/v1/templates/greeting')).body.owner_team).toBeNull();
    // A team lists each key once: the template its key resolves to.
    const alphaList = (await listAll('alpha')).filter((t) => t.key === 'greeting');
    expect(alphaList).toEqual([expect.objectContaining({ owner_team: 'alpha' })]);

    // The admin addresses the shared namespace by default and a team's with owner_team.
    expect((await get('admin', '/v1/templates/greeting')).body.body).toBe(
      'Shared greeting {{name}}',
    );
    expect((await get('admin', '/v1/templates/greeting?owner_team=beta')).body.body).toBe(
      'Beta greeting {{name}}',
    );
    const fixed = await h.api('PUT', '/v1/templates/greeting?owner_team=beta', {
      body: { body: 'Beta greeting, fixed by ops {{name}}' },
    });
    expect(fixed.body).toMatchObject({ version: 2, owner_team: 'beta' });
    expect(await sentText('beta', 'greeting')).toBe('Beta greeting, fixed by ops Ada');
    expect((await get('admin', '/v1/templates/greeting')).body.version).toBe(1);
    const everywhere = (await listAll('admin')).filter((t) => t.key === 'greeting');
    expect(everywhere.map((t) => t.owner_team)).toEqual([null, 'alpha', 'beta']);
    expect((await listAll('admin', '&owner_team=beta')).every((t) => t.owner_team === 'beta')).toBe(
      true,
    );

    // An admin makes a template for a team; it is that team's and no other's.
    const made = await create('admin', {
      key: 'made_for_delta',
      body: 'Delta {{name}}',
      owner_team: 'delta',
    });
    expect(made.body.owner_team).toBe('delta');
    expect(await sentText('delta', 'made_for_delta')).toBe('Delta Ada');
    expect((await get('gamma', '/v1/templates/made_for_delta')).status).toBe(404);
  });

  it('refuses a team a key the shared namespace holds: what it sends by that key never changes', async () => {
    await create('admin', { key: 'receipt', body: 'Shared receipt {{name}}' });
    expect(await sentText('gamma', 'receipt')).toBe('Shared receipt Ada');
    const shadow = await create('gamma', { key: 'receipt', body: 'Gamma receipt {{name}}' });
    expect(shadow.status).toBe(409);
    expect(shadow.body.error).toMatchObject({
      code: 'template_exists',
      details: { key: 'receipt', owner_team: null },
    });
    // Archived, the shared key stays taken for the teams too.
    await create('admin', { key: 'old_receipt', body: 'Old {{name}}' });
    expect((await h.api('DELETE', '/v1/templates/old_receipt')).status).toBe(204);
    expect((await create('gamma', { key: 'old_receipt', body: 'x' })).status).toBe(409);
    expect(await sentText('gamma', 'receipt')).toBe('Shared receipt Ada');
  });

  it('keeps a team on its own template once archived, without falling back to the shared one', async () => {
    await create('delta', { key: 'farewell', body: 'Delta farewell {{name}}' });
    await create('admin', { key: 'farewell', body: 'Shared farewell {{name}}' });
    expect((await h.api('DELETE', '/v1/templates/farewell', as('delta'))).status).toBe(204);
    const send = await h.api('POST', '/v1/notifications', {
      ...as('delta'),
      body: { template: 'farewell', to: '+14155550100', variables: { name: 'Ada' } },
    });
    expect(send.status).toBe(404);
    expect(send.body.error.code).toBe('template_not_found');
    const archived = await get('delta', '/v1/templates/farewell?include_archived=true');
    expect(archived.body).toMatchObject({ owner_team: 'delta', archived: true });
    expect(await sentText('gamma', 'farewell')).toBe('Shared farewell Ada');
  });

  it("filters message search by the key as the team sent it: its own template's messages only", async () => {
    await create('alpha', { key: 'search_me', body: 'Alpha search {{name}}' });
    await create('beta', { key: 'search_me', body: 'Beta search {{name}}' });
    await sentText('alpha', 'search_me');
    await sentText('beta', 'search_me');
    await sentText('beta', 'search_me');
    const alpha = await get('alpha', '/v1/messages?template=search_me');
    expect(alpha.status).toBe(200);
    expect(alpha.body.data).toHaveLength(1);
    expect(alpha.body.data[0]).toMatchObject({ template: 'search_me', team: 'alpha' });
    const beta = await get('beta', '/v1/messages?template=search_me');
    expect(beta.body.data).toHaveLength(2);
  });
});

import { type Harness, startHarness, waitForFinal } from './support/harness';

interface SandboxMessage {
  to: string;
  message: string;
  encoding: string;
  segments: number;
}

/**
 * The cost lint and smart encoding (issue #22 item 2): one ’ makes a 160-character text three
 * UCS-2 segments; the lint says so on the template and the preview, and smart encoding makes
 * what the provider receives GSM-7 again.
 */
describe('Template cost lint and smart encoding (e2e)', () => {
  let h: Harness;
  // 160 characters with one curly apostrophe: 1 segment as GSM-7, 3 as UCS-2.
  const BODY = `Hi {{name}}, we’ve ${'a'.repeat(146)}`;
  const TEXT = `Hi Ada, we’ve ${'a'.repeat(146)}`;
  const UCS2_WARNING = {
    code: 'forces_ucs2',
    characters: ['’'],
    segments_now: 3,
    segments_without: 1,
    replaceable: ['’'],
  };

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  async function sandboxMessagesTo(to: string): Promise<SandboxMessage[]> {
    const all: SandboxMessage[] = await h.sandboxAdmin('GET', '/messages');
    return all.filter((m) => m.to === to);
  }

  it('warns of the ’ on the template answer and the preview: 3 segments now, 1 without', async () => {
    expect(TEXT).toHaveLength(160);
    const created = await h.api('POST', '/v1/templates', {
      body: { key: 'lint_quote', body: BODY },
    });
    expect(created.status).toBe(201);
    // The body as written is 165 characters ({{name}} for Ada): 3 segments as UCS-2, 2 as GSM-7.
    expect(created.body).toMatchObject({
      smart_encoding: false,
      warnings: [{ ...UCS2_WARNING, segments_without: 2 }],
    });

    const preview = await h.api('POST', '/v1/templates/lint_quote/preview', {
      body: { variables: { name: 'Ada' } },
    });
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({
      text: TEXT,
      characters: 160,
      encoding: 'UCS-2',
      segments: 3,
      credits_per_recipient: 3,
      variables: ['name'],
      smart_encoding: false,
      original_text: null,
      replaced: [],
      warnings: [UCS2_WARNING],
    });

    const listed = await h.api('GET', '/v1/templates');
    expect(listed.body.data.find((t: { key: string }) => t.key === 'lint_quote').warnings).toEqual(
      created.body.warnings,
    );
  });

  it('previews an unsaved body, and smart encoding in the preview, without saving anything', async () => {
    const res = await h.api('POST', '/v1/templates/preview', {
      body: { body: BODY, variables: { name: 'Ada' }, smart_encoding: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      text: TEXT.replace('’', "'"),
      encoding: 'GSM-7',
      segments: 1,
      credits_per_recipient: 1,
      smart_encoding: true,
      original_text: TEXT,
      replaced: [{ character: '’', replacement: "'", count: 1 }],
      warnings: [],
    });

    const noBody = await h.api('POST', '/v1/templates/preview', { body: { variables: {} } });
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.code).toBe('validation_failed');
    const invalid = await h.api('POST', '/v1/templates/preview', { body: { body: 'Hi {{#if}}' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.code).toBe('invalid_template');
  });

  it('smart_encoding: true changes what the provider receives, its segments and credits', async () => {
    const updated = await h.api('PUT', '/v1/templates/lint_quote', {
      body: { body: BODY, smart_encoding: true },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ version: 2, smart_encoding: true, warnings: [] });
    // Frozen per version: version 1 still renders as it did.
    const v1 = await h.api('GET', '/v1/templates/lint_quote/versions/1');
    expect(v1.body).toMatchObject({ smart_encoding: false, warnings: [{ code: 'forces_ucs2' }] });

    const to = '+14155550181';
    const sent = await h.api('POST', '/v1/notifications', {
      body: { template: 'lint_quote', to, variables: { name: 'Ada' } },
    });
    expect(sent.status).toBe(202);
    const done = await waitForFinal(h, sent.body.id);
    expect(done.messages[0]).toMatchObject({
      status: 'delivered',
      encoding: 'GSM-7',
      segments: 1,
      credits_used: 1,
    });
    const received = await sandboxMessagesTo(to);
    expect(received).toEqual([
      expect.objectContaining({ message: TEXT.replace('’', "'"), encoding: 'GSM-7', segments: 1 }),
    ]);
  });

  it('without smart encoding the provider gets the ’ and bills 3 segments', async () => {
    const to = '+14155550182';
    const restored = await h.api('POST', '/v1/templates/lint_quote/versions/1/restore');
    expect(restored.body).toMatchObject({ version: 3, smart_encoding: false });
    const sent = await h.api('POST', '/v1/notifications', {
      body: { template: 'lint_quote', to, variables: { name: 'Ada' } },
    });
    const done = await waitForFinal(h, sent.body.id);
    expect(done.messages[0]).toMatchObject({ status: 'delivered', encoding: 'UCS-2', segments: 3 });
    expect(await sandboxMessagesTo(to)).toEqual([
      expect.objectContaining({ message: TEXT, encoding: 'UCS-2', segments: 3 }),
    ]);
  });

  it('refuses a smart-encoded text that grows past the limit (an ellipsis is three characters)', async () => {
    await h.api('POST', '/v1/templates', {
      body: { key: 'lint_dots', body: '{{t}}', smart_encoding: true },
    });
    const res = await h.api('POST', '/v1/templates/lint_dots/preview', {
      body: { variables: { t: '…'.repeat(600) } },
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'message_too_long',
      details: { characters: 1800 },
    });
  });
});

import {
  generateTestWebhook,
  signWebhookPayload,
  verifyWebhookSignature,
} from './webhook-signature';

const SECRET = 'whsec_test';
const BODY = JSON.stringify({ event: 'message.delivered', message_id: 'msg_1', timestamp: 1 });

describe(verifyWebhookSignature.name, () => {
  const good = signWebhookPayload(BODY, SECRET);

  it('accepts the signature of the exact body', () => {
    expect(verifyWebhookSignature(BODY, good, SECRET)).toBe(true);
  });

  it('rejects a tampered body', () => {
    expect(verifyWebhookSignature(BODY.replace('msg_1', 'msg_2'), good, SECRET)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyWebhookSignature(BODY, signWebhookPayload(BODY, 'whsec_other'), SECRET)).toBe(
      false,
    );
  });

  it('rejects a signature of the wrong length without throwing', () => {
    expect(verifyWebhookSignature(BODY, good.slice(0, 63), SECRET)).toBe(false);
    expect(verifyWebhookSignature(BODY, `${good}00`, SECRET)).toBe(false);
    expect(verifyWebhookSignature(BODY, '', SECRET)).toBe(false);
  });

  it('rejects non-hex text of the right length', () => {
    expect(verifyWebhookSignature(BODY, 'z'.repeat(64), SECRET)).toBe(false);
  });

  it('rejects a missing header', () => {
    expect(verifyWebhookSignature(BODY, undefined, SECRET)).toBe(false);
    expect(verifyWebhookSignature(BODY, null, SECRET)).toBe(false);
  });

  it('rejects a repeated (array) header even when one value is right', () => {
    expect(verifyWebhookSignature(BODY, [good], SECRET)).toBe(false);
    expect(verifyWebhookSignature(BODY, [good, good], SECRET)).toBe(false);
  });

  it('accepts upper-case hex', () => {
    expect(verifyWebhookSignature(BODY, good.toUpperCase(), SECRET)).toBe(true);
  });

  it('accepts the raw body as a Buffer', () => {
    expect(verifyWebhookSignature(Buffer.from(BODY, 'utf8'), good, SECRET)).toBe(true);
  });

  it('rejects when there is no body or no secret', () => {
    expect(verifyWebhookSignature(undefined, good, SECRET)).toBe(false);
    expect(verifyWebhookSignature(BODY, good, '')).toBe(false);
  });
});

describe(generateTestWebhook.name, () => {
  it('produces a body and headers that verify', () => {
    const { body, signature, headers } = generateTestWebhook({ message_id: 'msg_1' }, SECRET);
    expect(body).toBe('{"message_id":"msg_1"}');
    expect(headers['x-smsprovider-signature']).toBe(signature);
    expect(verifyWebhookSignature(body, signature, SECRET)).toBe(true);
  });
});

import { parseCallbackPayload, serializeCallbackPayload } from './callback-payload';

const STORED = {
  to: '+14155550666',
  error: { code: 'undeliverable', message: 'Handset unreachable' },
  event: 'message.failed',
  status: 'failed',
  reference: null,
  message_id: 'm-1',
  occurred_at: '2026-03-01T12:00:00.123Z',
  notification_id: 'n-1',
};

describe('callback payload', () => {
  it('serializes a stored payload in the documented order', () => {
    const payload = parseCallbackPayload(STORED);
    expect(payload).not.toBeNull();
    expect(serializeCallbackPayload(payload!)).toBe(
      '{"event":"message.failed","notification_id":"n-1","message_id":"m-1","reference":null,' +
        '"to":"+14155550666","status":"failed","error":{"code":"undeliverable","message":"Handset unreachable"},' +
        '"occurred_at":"2026-03-01T12:00:00.123Z"}',
    );
  });

  it('drops fields it does not know', () => {
    const payload = parseCallbackPayload({ ...STORED, team: 'secret-team' });
    expect(JSON.parse(serializeCallbackPayload(payload!))).not.toHaveProperty('team');
  });

  it('refuses anything that is not a callback payload', () => {
    for (const value of [
      null,
      'text',
      42,
      {},
      { ...STORED, event: 1 },
      { ...STORED, reference: 7 },
      { ...STORED, error: 'bad' },
      { ...STORED, error: { code: 'x' } },
      { ...STORED, to: undefined },
    ]) {
      expect(parseCallbackPayload(value)).toBeNull();
    }
  });
});

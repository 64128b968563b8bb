import { Logger } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import type { CallbackHttpClient, CallbackResponse } from './callback-http.client';
import type { CallbackQueue } from './callback-queue.service';
import { CallbackSender } from './callback-sender.service';
import { generateCallbackSecret, verifyCallback } from './callback-signature';
import type { CallbacksRepository, DeliveryForAttempt } from './callbacks.repository';

const DELIVERY_ID = '0b6f1f57-3c2a-4a8e-9d1e-5d3f3c1f2a10';
const SECRET = generateCallbackSecret();
const PAYLOAD = {
  // jsonb order, as PostgreSQL returns it
  to: '+14155550100',
  error: null,
  event: 'message.queued',
  status: 'queued',
  reference: 'order-42',
  message_id: 'm-1',
  occurred_at: '2026-03-01T12:00:00.000Z',
  notification_id: 'n-1',
};

function delivery(overrides: Partial<DeliveryForAttempt> = {}): DeliveryForAttempt {
  return {
    id: DELIVERY_ID,
    messageId: 'm-1',
    team: 'payments',
    url: 'https://receiver.example/hook?token=abc',
    payload: PAYLOAD,
    status: 'pending',
    attempts: 0,
    attemptsBase: 0,
    ...overrides,
  };
}

function setup(
  current: DeliveryForAttempt | null,
  response: CallbackResponse,
  maxAttempts = 3,
  teamConcurrency = 3,
) {
  const repo = {
    findForAttempt: jest.fn().mockResolvedValue(current),
    findSecret: jest
      .fn()
      .mockResolvedValue({ team: 'payments', secret: SECRET, createdAt: new Date() }),
    createSecretIfMissing: jest.fn(),
    recordDelivered: jest.fn().mockResolvedValue(true),
    recordFailure: jest.fn().mockResolvedValue(true),
    nextForMessage: jest.fn().mockResolvedValue(null),
    postpone: jest.fn().mockResolvedValue(undefined),
  };
  const http = { post: jest.fn().mockResolvedValue(response) };
  const queue = { enqueue: jest.fn().mockResolvedValue(undefined) };
  const metrics = new MetricsService();
  const config = {
    callbacks: { maxAttempts, retryBaseMs: 1000, timeoutMs: 2500, teamConcurrency },
  } as AppConfig;
  const sender = new CallbackSender(
    repo as unknown as CallbacksRepository,
    http as unknown as CallbackHttpClient,
    queue as unknown as CallbackQueue,
    metrics,
    config,
  );
  return { sender, repo, http, queue, metrics };
}

const OK: CallbackResponse = { ok: true, statusCode: 204, error: null };
const ERROR_500: CallbackResponse = { ok: false, statusCode: 500, error: 'HTTP 500' };

describe(CallbackSender.name, () => {
  beforeAll(() => Logger.overrideLogger(false));

  it("gives a callback back, not as an attempt, while its team's requests fill the team's cap", async () => {
    let answer: (response: CallbackResponse) => void = () => undefined;
    const { sender, repo, http } = setup(delivery(), OK, 3, 1);
    http.post.mockImplementationOnce(
      () => new Promise<CallbackResponse>((resolve) => (answer = resolve)),
    );
    const first = sender.handle({ deliveryId: DELIVERY_ID, attempt: 0 });
    // The first request is out (and hangs) once the sender has called the endpoint.
    while (http.post.mock.calls.length === 0) await new Promise((r) => setImmediate(r));

    await expect(sender.handle({ deliveryId: DELIVERY_ID, attempt: 0 })).resolves.toBe('deferred');
    expect(http.post).toHaveBeenCalledTimes(1);
    expect(repo.postpone).toHaveBeenCalledWith(DELIVERY_ID, 0, expect.any(Date));
    expect(repo.recordFailure).not.toHaveBeenCalled();

    answer(OK);
    await expect(first).resolves.toBe('delivered');
    // The slot is free again once the first request has ended.
    await expect(sender.handle({ deliveryId: DELIVERY_ID, attempt: 0 })).resolves.toBe('delivered');
  });

  it('posts the payload in the documented field order, signed, and records delivery', async () => {
    const { sender, repo, http } = setup(delivery(), OK);
    await expect(sender.handle({ deliveryId: DELIVERY_ID, attempt: 0 })).resolves.toBe('delivered');

    const [url, body, headers, timeout] = http.post.mock.calls[0] as [
      string,
      string,
      Record<string, string>,
      number,
    ];
    expect(url).toBe('https://receiver.example/hook?token=abc');
    expect(timeout).toBe(2500);
    expect(Object.keys(JSON.parse(body) as object)).toEqual([
      'event',
      'notification_id',
      'message_id',
      'reference',
      'to',
      'status',
      'error',
      'occurred_at',
    ]);
    expect(headers['webhook-id']).toBe(DELIVERY_ID);
    expect(verifyCallback({ body, headers, secret: SECRET })).toBe(true);
    expect(repo.recordDelivered).toHaveBeenCalledWith(DELIVERY_ID, 0, 204);
    expect(repo.nextForMessage).toHaveBeenCalledWith('m-1');
  });

  it('plans a retry with backoff after a failed attempt that is not the last', async () => {
    const { sender, repo, queue } = setup(delivery({ attempts: 1 }), ERROR_500);
    const before = Date.now();
    await expect(sender.handle({ deliveryId: DELIVERY_ID, attempt: 1 })).resolves.toBe('retry');

    const [, attemptsBefore, failure] = repo.recordFailure.mock.calls[0] as [
      string,
      number,
      { final: boolean; statusCode: number; nextAttemptAt: Date },
    ];
    expect(attemptsBefore).toBe(1);
    expect(failure.final).toBe(false);
    expect(failure.statusCode).toBe(500);
    // Second retry: 2 × 1000 ms, with equal jitter → between 1 and 2 s from now.
    const delay = failure.nextAttemptAt.getTime() - before;
    expect(delay).toBeGreaterThanOrEqual(1000 - 5);
    expect(delay).toBeLessThanOrEqual(2000 + 50);
    expect(queue.enqueue).toHaveBeenCalledWith([
      { id: DELIVERY_ID, attempts: 2, nextAttemptAt: failure.nextAttemptAt },
    ]);
    // The message's later callbacks keep waiting behind this one.
    expect(repo.nextForMessage).not.toHaveBeenCalled();
  });

  it('marks the delivery failed after the last attempt and moves on to the next one', async () => {
    const { sender, repo, queue } = setup(delivery({ attempts: 2 }), ERROR_500, 3);
    const next = { id: 'next', attempts: 0, nextAttemptAt: new Date() };
    repo.nextForMessage.mockResolvedValue(next);
    await expect(sender.handle({ deliveryId: DELIVERY_ID, attempt: 2 })).resolves.toBe('failed');
    expect(
      (repo.recordFailure.mock.calls[0] as [string, number, { final: boolean }])[2].final,
    ).toBe(true);
    expect(queue.enqueue).toHaveBeenCalledWith([next]);
  });

  it('gives a redelivered callback a new round of attempts, backoff starting over', async () => {
    // Failed for good after 3 attempts, then redelivered: its round began at 3.
    const first = setup(delivery({ attempts: 3, attemptsBase: 3 }), ERROR_500, 3);
    const before = Date.now();
    await expect(first.sender.handle({ deliveryId: DELIVERY_ID, attempt: 3 })).resolves.toBe(
      'retry',
    );
    const [, , failure] = first.repo.recordFailure.mock.calls[0] as [
      string,
      number,
      { final: boolean; nextAttemptAt: Date },
    ];
    expect(failure.final).toBe(false);
    // First retry of the round: 1000 ms with equal jitter → between 0.5 and 1 s from now.
    const delay = failure.nextAttemptAt.getTime() - before;
    expect(delay).toBeGreaterThanOrEqual(500 - 5);
    expect(delay).toBeLessThanOrEqual(1000 + 50);
    expect(first.queue.enqueue).toHaveBeenCalledWith([
      { id: DELIVERY_ID, attempts: 4, nextAttemptAt: failure.nextAttemptAt },
    ]);

    // The round's third attempt is its last.
    const last = setup(delivery({ attempts: 5, attemptsBase: 3 }), ERROR_500, 3);
    await expect(last.sender.handle({ deliveryId: DELIVERY_ID, attempt: 5 })).resolves.toBe(
      'failed',
    );
  });

  it('ignores obsolete, settled and missing deliveries and malformed jobs', async () => {
    for (const [current, job] of [
      [delivery({ attempts: 2 }), { deliveryId: DELIVERY_ID, attempt: 1 }],
      [delivery({ status: 'delivered' }), { deliveryId: DELIVERY_ID, attempt: 0 }],
      [null, { deliveryId: DELIVERY_ID, attempt: 0 }],
      [delivery(), { deliveryId: 'not-a-uuid', attempt: 0 }],
      [delivery(), { deliveryId: DELIVERY_ID, attempt: -1 }],
      [delivery(), null],
    ] as const) {
      const { sender, http, repo } = setup(current, OK);
      await expect(sender.handle(job)).resolves.toBe('skipped');
      expect(http.post).not.toHaveBeenCalled();
      expect(repo.recordDelivered).not.toHaveBeenCalled();
    }
  });

  it('does not count an attempt another worker already recorded', async () => {
    const { sender, repo, queue } = setup(delivery(), OK);
    repo.recordDelivered.mockResolvedValue(false);
    await expect(sender.handle({ deliveryId: DELIVERY_ID, attempt: 0 })).resolves.toBe('skipped');
    expect(queue.enqueue).not.toHaveBeenCalled();
  });

  it('creates a secret for a team that has none rather than sending unsigned', async () => {
    const { sender, repo, http } = setup(delivery(), OK);
    const created = generateCallbackSecret();
    repo.findSecret.mockResolvedValue(null);
    repo.createSecretIfMissing.mockResolvedValue({ secret: created, created: true });
    await sender.handle({ deliveryId: DELIVERY_ID, attempt: 0 });
    const [, body, headers] = http.post.mock.calls[0] as [string, string, Record<string, string>];
    expect(verifyCallback({ body, headers, secret: created })).toBe(true);
  });

  it('fails a delivery whose stored payload is unusable without calling out', async () => {
    const { sender, repo, http } = setup(delivery({ payload: { event: 42 } }), OK);
    await expect(sender.handle({ deliveryId: DELIVERY_ID, attempt: 0 })).resolves.toBe('failed');
    expect(http.post).not.toHaveBeenCalled();
    expect(
      (repo.recordFailure.mock.calls[0] as [string, number, { final: boolean }])[2].final,
    ).toBe(true);
  });

  it('never stores a phone number in last_error', async () => {
    const { sender, repo } = setup(delivery(), {
      ok: false,
      statusCode: null,
      error: 'refused for +14155550100',
    });
    await sender.handle({ deliveryId: DELIVERY_ID, attempt: 0 });
    const failure = (repo.recordFailure.mock.calls[0] as [string, number, { error: string }])[2];
    expect(failure.error).not.toContain('+14155550100');
  });
});

import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { callApi } from '../tools/stack';
import {
  ADMIN_KEY,
  createTemplate,
  freePort,
  type Harness,
  startHarness,
  waitFor,
} from './support/harness';
import { type ServiceProcess, spawnService } from './support/service-process';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  links?: { traceId: string; spanId: string }[];
}

const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

/** A stand-in OTLP/HTTP collector: keeps every span the service exports, in memory. */
async function startCollector(): Promise<{ url: string; spans: OtlpSpan[]; server: Server }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const r of parsed.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, spans, server };
}

const attribute = (span: OtlpSpan, key: string) =>
  span.attributes.find((a) => a.key === key)?.value;

/** The HTTP call to the provider's POST /messages (the sandbox, here). */
const isProviderCall = (span: OtlpSpan) =>
  span.kind === CLIENT && /\/v1\/messages/.test(JSON.stringify(span.attributes));

describe('Tracing (e2e, a service exporting to a collector)', () => {
  let h: Harness;
  let service: ServiceProcess;
  let collector: Awaited<ReturnType<typeof startCollector>>;

  beforeAll(async () => {
    collector = await startCollector();
    h = await startHarness({ env: { APP_ROLE: 'api' } });
    await createTemplate(h, 'traced', 'Hello {{name}}');
    const port = await freePort();
    service = await spawnService({
      ...h.env,
      PORT: String(port),
      // The provider's webhooks come to this process, not to the harness's own instance.
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      APP_ROLE: 'all',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // The test's callback receiver listens on 127.0.0.1.
      CALLBACK_ALLOW_LOOPBACK: 'true',
    });
  });

  afterAll(async () => {
    await service?.kill('SIGTERM');
    await h?.close();
    collector?.server.close();
  });

  it('follows one trace from the request through the job to the provider call', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const sent = await callApi<any>(service.url, 'POST', '/v1/notifications', {
      key: ADMIN_KEY,
      headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
      body: { template: 'traced', to: ['+14155550100'], variables: { name: 'Ada' } },
    });
    expect(sent.status).toBe(202);
    const messageId: string = sent.body.messages[0].id;

    const spans = await waitFor(
      () => {
        const ours = collector.spans.filter((s) => s.traceId === traceId);
        const job = ours.find((s) => s.kind === CONSUMER && s.name === 'send message');
        const call = job && ours.find((s) => isProviderCall(s) && s.parentSpanId === job.spanId);
        return call ? ours : null;
      },
      { what: 'the spans of the send', timeoutMs: 20_000 },
    );
    const request = spans.find((s) => s.kind === SERVER && s.parentSpanId === callerSpan);
    expect(request).toBeDefined();
    const job = spans.find((s) => s.name === 'send message');
    expect(job?.parentSpanId).toBe(request?.spanId);
    expect(attribute(job!, 'message_id')).toEqual({ stringValue: messageId });
    const call = spans.find((s) => isProviderCall(s) && s.parentSpanId === job?.spanId);
    expect(attribute(call!, 'http.request.method')).toEqual({ stringValue: 'POST' });
    // The request's queries and the job's are in the same trace, PostgreSQL and Redis alike.
    const dbSystems = new Set(
      spans
        .map((s) => attribute(s, 'db.system.name') ?? attribute(s, 'db.system'))
        .map((v) => v?.stringValue),
    );
    expect(dbSystems).toContain('postgresql');
    expect(dbSystems).toContain('redis');

    // The provider's webhooks about it come later, as requests of their own: their spans link
    // back to the send.
    const webhook = await waitFor(
      () =>
        collector.spans.find(
          (s) =>
            s.name === 'provider webhook' &&
            (s.links ?? []).some((l) => l.traceId === traceId && l.spanId === job?.spanId),
        ) ?? null,
      { what: 'a webhook span linked to the send', timeoutMs: 20_000 },
    );
    expect(webhook.traceId).not.toBe(traceId);
    expect(
      collector.spans.some((s) => s.kind === SERVER && s.spanId === webhook.parentSpanId),
    ).toBe(true);
  });

  it('links each status callback to the send it reports on', async () => {
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = receiver.address() as AddressInfo;
      const sent = await callApi<any>(service.url, 'POST', '/v1/notifications', {
        key: ADMIN_KEY,
        body: {
          template: 'traced',
          to: ['+14155550101'],
          variables: { name: 'Grace' },
          callback_url: `http://127.0.0.1:${port}/status`,
        },
      });
      expect(sent.status).toBe(202);
      const messageId: string = sent.body.messages[0].id;
      const linked = await waitFor(
        () => {
          const job = collector.spans.find(
            (s) =>
              s.name === 'send message' && attribute(s, 'message_id')?.stringValue === messageId,
          );
          const callback =
            job &&
            collector.spans.find(
              (s) =>
                s.name === 'status callback' &&
                (s.links ?? []).some((l) => l.spanId === job.spanId && l.traceId === job.traceId),
            );
          return callback ? { job, callback } : null;
        },
        { what: 'a callback span linked to the send', timeoutMs: 20_000 },
      );
      expect(linked.callback.traceId).not.toBe(linked.job.traceId);
      // Its POST to the caller is a child of it.
      expect(
        collector.spans.some((s) => s.kind === CLIENT && s.parentSpanId === linked.callback.spanId),
      ).toBe(true);
    } finally {
      receiver.close();
    }
  });

  it('exports nothing for probes and scrapes', async () => {
    await callApi(service.url, 'GET', '/health/ready');
    await callApi(service.url, 'GET', '/metrics');
    const serverSpans = collector.spans.filter((s) => s.kind === SERVER);
    expect(serverSpans.some((s) => /health|metrics/.test(JSON.stringify(s.attributes)))).toBe(
      false,
    );
  });
});

import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface TracingSettings {
  otlpEndpoint: string | null;
  serviceName: string;
}

export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Starts OpenTelemetry (HTTP in and out, PostgreSQL, Redis) when a collector is configured, or
 * when a test hands in its own exporter. Off by default, and then free: nothing of the SDK is
 * even loaded, and the @opentelemetry/api calls in the code are no-ops. Must run before the
 * modules it instruments are loaded (main.ts imports the app only afterwards).
 */
export function startTracing(settings: TracingSettings, exporter?: SpanExporter): Tracing | null {
  if (!settings.otlpEndpoint && !exporter) return null;
  // Loaded here, not at the top: a service without tracing never pays for the SDK.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } =
    require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } =
    require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } =
    require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } =
    require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { OTLPTraceExporter } =
    require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { BatchSpanProcessor, SimpleSpanProcessor } =
    require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
  /* eslint-enable @typescript-eslint/no-require-imports */

  const processor = exporter
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: `${settings.otlpEndpoint}/v1/traces` }));
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    spanProcessors: [processor],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes would be most of the traces and tell nothing.
        ignoreIncomingRequestHook: (req) => /^\/(health|metrics)/.test(req.url ?? ''),
      }),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}

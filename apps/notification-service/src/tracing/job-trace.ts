import {
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

const tracer = trace.getTracer('notification-service');

/** The active trace as W3C headers, for a job to carry; empty when tracing is off. */
export function currentTraceCarrier(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * Runs a job's work in a span whose parent is the trace the job carries (the request that
 * created it), so one trace goes from the request through the job to the provider call.
 */
export function runInJobSpan<T>(
  name: string,
  carrier: Record<string, string> | undefined,
  attributes: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), carrier ?? {});
  return tracer.startActiveSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes },
    parent,
    async (span: Span) => {
      try {
        return await work();
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Runs `work` in a span of the current trace (the webhook's request) linked to the send's span,
 * given as a traceparent: a status event is its own request, related to the send, not part of it.
 */
export function runInLinkedSpan<T>(
  name: string,
  linkedTraceparent: string | undefined,
  attributes: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  const linked = linkedTraceparent
    ? trace.getSpanContext(
        propagation.extract(context.active(), { traceparent: linkedTraceparent }),
      )
    : undefined;
  return tracer.startActiveSpan(
    name,
    { kind: SpanKind.INTERNAL, attributes, links: linked ? [{ context: linked }] : [] },
    async (span: Span) => {
      try {
        return await work();
      } finally {
        span.end();
      }
    },
  );
}

/** Runs a job with no request behind it (a status callback) in a span of its own. */
export function runInRootSpan<T>(
  name: string,
  attributes: Record<string, string>,
  work: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes, root: true },
    async (span: Span) => {
      try {
        return await work();
      } finally {
        span.end();
      }
    },
  );
}

/** Links the active span to the span a traceparent names (no-op without either). */
export function linkActiveSpanTo(traceparent: string | undefined): void {
  if (!traceparent) return;
  const linked = trace.getSpanContext(propagation.extract(context.active(), { traceparent }));
  if (linked) trace.getActiveSpan()?.addLink({ context: linked });
}

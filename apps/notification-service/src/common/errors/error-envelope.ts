export interface ErrorEnvelope {
  success: false;
  error: { code: string; message: string; details?: unknown };
}

export function envelope(code: string, message: string, details?: unknown): ErrorEnvelope {
  return {
    success: false,
    error: details === undefined ? { code, message } : { code, message, details },
  };
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
  503: 'service_unavailable',
};

export function codeForStatus(status: number): string {
  return STATUS_CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request');
}

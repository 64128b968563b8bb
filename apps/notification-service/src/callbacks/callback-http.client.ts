import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { CallbackAddressPolicy } from './callback-address-policy';

export interface CallbackResponse {
  /** A 2xx answer. */
  ok: boolean;
  /** Null when no answer came back (timeout, refused, DNS, TLS). */
  statusCode: number | null;
  /** Why it was not ok; null when it was. */
  error: string | null;
  /** Trying again cannot help (the address is refused by policy): the delivery fails at once. */
  permanent?: boolean;
}

const USER_AGENT = 'notification-service-callbacks/1';
/** What is read of a receiver's answer: its status matters, its body does not. */
export const RESPONSE_BODY_CAP_BYTES = 1024;

/** Refused by the address policy; the message is the reason recorded on the delivery. */
class RefusedAddress extends Error {
  readonly code = 'CALLBACK_ADDRESS_REFUSED';
}

/**
 * The one HTTP call of a callback attempt; a class of its own so the sender can be tested
 * without a network. Connects only to addresses the policy allows, checked on the address the
 * socket actually uses (the resolver runs inside the connection's lookup), never follows a
 * redirect, and reads at most `RESPONSE_BODY_CAP_BYTES` of the answer.
 */
@Injectable()
export class CallbackHttpClient {
  private readonly policy: CallbackAddressPolicy;

  constructor(config: AppConfig) {
    this.policy = new CallbackAddressPolicy(config.callbacks.addresses);
  }

  async post(
    url: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<CallbackResponse> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return { ok: false, statusCode: null, error: 'Not a valid URL', permanent: true };
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      return { ok: false, statusCode: null, error: 'Only http and https URLs', permanent: true };
    }
    // The URL parser has already turned 0x7f000001, 2130706433 and friends into dotted form.
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0) {
      const refusal = this.policy.refusal(host, host);
      if (refusal) return { ok: false, statusCode: null, error: refusal, permanent: true };
    }
    try {
      const status = await this.send(target, host, body, headers, timeoutMs);
      if (status >= 200 && status < 300) return { ok: true, statusCode: status, error: null };
      // A redirect is the receiver's misconfiguration; following it would re-send a signed body
      // to wherever it points.
      const reason = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
      return { ok: false, statusCode: status, error: `HTTP ${status}${reason}` };
    } catch (error) {
      if (error instanceof RefusedAddress) {
        return { ok: false, statusCode: null, error: error.message, permanent: true };
      }
      return { ok: false, statusCode: null, error: describe(error, timeoutMs) };
    }
  }

  private send(
    target: URL,
    host: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<number> {
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        target,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': USER_AGENT,
            ...headers,
          },
          lookup: this.checkedLookup(host),
          signal: AbortSignal.timeout(timeoutMs),
        },
        (res: IncomingMessage) => {
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > RESPONSE_BODY_CAP_BYTES) res.destroy();
          });
          res.on('close', () => resolve(res.statusCode ?? 0));
          res.on('error', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Resolves like the system does, then keeps only the addresses the policy allows. */
  private checkedLookup(host: string): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) {
          callback(error, '', 0);
          return;
        }
        const allowed = addresses.filter((a) => this.policy.refusal(host, a.address) === null);
        if (allowed.length === 0) {
          const reason = addresses[0]
            ? (this.policy.refusal(host, addresses[0].address) ?? 'refused')
            : `no address for ${host}`;
          callback(new RefusedAddress(reason), '', 0);
          return;
        }
        if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, allowed);
        else callback(null, allowed[0].address, allowed[0].family);
      });
    };
  }
}

/**
 * What a caller may learn of a failed attempt: the kind of failure, not the addresses, ports or
 * library messages behind it (which would make the delivery list a scanner of our network).
 */
function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `No answer within ${timeoutMs} ms`;
  }
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'Connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'Connection closed before an answer';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'Host name not found';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'Host unreachable';
    case 'HPE_INVALID_CONSTANT':
    case 'HPE_INVALID_STATUS':
      return 'The answer is not HTTP';
    default:
      if (typeof code === 'string' && /CERT|TLS|SSL/.test(code)) return 'TLS handshake failed';
      return 'Connection failed';
  }
}

import { invalidParameter } from './sandbox-error';

/** An absolute http(s) URL, as the sandbox will have to POST to it. */
export function parseHttpUrl(name: string, value: unknown): string {
  if (typeof value !== 'string') throw invalidParameter(name, 'must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidParameter(name, 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidParameter(name, 'must be an http(s) URL');
  }
  return value;
}

/**
 * The authority of a URL as a WHATWG parser (ours, Node's http client) reads it: after the scheme
 * and any slashes or backslashes, up to the first / \ ? or #.
 */
const AUTHORITY = /^\s*[a-z][a-z0-9+.-]*:[\\/]*([^\\/?#]*)/i;

/**
 * Whether a callback URL names a user or password (`https://user:pass@host/`, `https://token@host/`,
 * even an empty `https://@host/`). Such credentials would be stored, shown with the notification
 * and copied into every export in plain text, so intake refuses them: a receiver authenticates
 * callbacks by their signature (docs/callbacks.md), or by a secret in the path.
 */
export function carriesCredentials(url: string): boolean {
  return AUTHORITY.exec(url)?.[1]?.includes('@') ?? false;
}

/**
 * `url` without its user and password, for showing a callback URL stored before intake refused
 * them. Anything that does not parse is shown as it is (intake only ever stored parsed URLs).
 */
export function withoutCredentials(url: string): string {
  if (!carriesCredentials(url) || !URL.canParse(url)) return url;
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

import { ErrorAlert, Notice } from '../alerts';
import { useEffect, useState } from 'preact/hooks';
import type { Schemas } from '@app/api-client';
import { api, unwrap } from '../api';
import { ConfirmDialog } from '../confirm-dialog';
import { dateTime } from '../format';

type Key = Schemas['ApiKeyResponse'];
type Scope = Key['scopes'][number];

/** Every scope a key may hold, with what it lets the key do. */
const SCOPES: Array<{ scope: Scope; means: string }> = [
  { scope: 'notifications:send', means: 'send notifications' },
  { scope: 'notifications:read', means: 'read notifications and messages' },
  { scope: 'templates:read', means: 'read and preview templates' },
  { scope: 'templates:write', means: 'change templates' },
  { scope: 'reports:read', means: 'delivery reports' },
  { scope: 'suppressions:read', means: 'read the suppression list' },
  { scope: 'suppressions:write', means: 'change the suppression list' },
  { scope: 'keys:read', means: "list its team's keys (a team lead)" },
  { scope: 'admin', means: 'everything, every team' },
];

/**
 * API keys: an admin lists every team's keys, makes one (its secret shown once, to copy) and
 * revokes one after a confirmation; a key with keys:read lists its own team's, and never sees a
 * secret (the service stores only their hashes).
 */
export function ApiKeysPage({ admin }: { admin: boolean }) {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [team, setTeam] = useState('');
  const [scopes, setScopes] = useState<Set<Scope>>(new Set(['notifications:send']));
  const [secret, setSecret] = useState<{ name: string; key: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [revoking, setRevoking] = useState<Key | null>(null);
  const [busy, setBusy] = useState(false);

  const load = async () => setKeys(await unwrap(api.GET('/v1/api-keys')));

  useEffect(() => {
    load().catch((e: Error) => setError(e.message));
  }, []);

  const create = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const made = await unwrap(
        api.POST('/v1/api-keys', {
          body: { name: name.trim(), team: team.trim(), scopes: [...scopes] },
        }),
      );
      setSecret({ name: made.name, key: made.key });
      setCopied(false);
      setName('');
      await load();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (key: Key) => {
    setRevoking(null);
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.DELETE('/v1/api-keys/{id}', { params: { path: { id: key.id } } }));
      setNotice(`Revoked ${key.name} (${key.key_prefix}…): it stops working at once.`);
      await load();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const copy = async () => {
    if (!secret) return;
    try {
      await navigator.clipboard.writeText(secret.key);
      setCopied(true);
    } catch {
      setError('The browser did not allow copying: select the key and copy it by hand.');
    }
  };

  const toggle = (scope: Scope, on: boolean) =>
    setScopes((s) => {
      const next = new Set(s);
      if (on) next.add(scope);
      else next.delete(scope);
      return next;
    });

  return (
    <main>
      <h1 tabIndex={-1}>API keys</h1>
      <p class="hint">
        {admin
          ? 'Every team’s keys. A key’s secret is shown once, when it is made; the service keeps only its hash.'
          : 'Your team’s keys. Only an admin makes or revokes keys; secrets are never shown again.'}
      </p>
      <Notice text={notice} />
      <ErrorAlert error={error} />

      {secret && (
        <section class="secret" aria-labelledby="secret-heading" role="region">
          <h2 id="secret-heading">New key {secret.name}</h2>
          <p class="warning">
            Copy it now: this is the only time the key is shown. Store it in your secret manager; if
            it is lost, revoke it and make another.
          </p>
          <label>
            Secret key
            <input
              readOnly
              name="secret"
              data-testid="new-key"
              value={secret.key}
              onFocus={(e) => e.currentTarget.select()}
            />
          </label>
          <div class="actions">
            <button type="button" onClick={() => void copy()}>
              {copied ? 'Copied' : 'Copy key'}
            </button>
            <button type="button" class="secondary" onClick={() => setSecret(null)}>
              I have stored it
            </button>
          </div>
        </section>
      )}

      {admin && (
        <section aria-labelledby="create-heading">
          <h2 id="create-heading">Create a key</h2>
          <form class="key-form" onSubmit={(e) => void create(e)}>
            <div class="filters">
              <label>
                Name
                <input
                  name="key-name"
                  required
                  value={name}
                  placeholder="checkout-service"
                  onInput={(e) => setName(e.currentTarget.value)}
                />
              </label>
              <label>
                Team
                <input
                  name="key-team"
                  required
                  value={team}
                  placeholder="checkout"
                  onInput={(e) => setTeam(e.currentTarget.value)}
                />
              </label>
            </div>
            <fieldset>
              <legend>Scopes</legend>
              {SCOPES.map(({ scope, means }) => (
                <label class="inline" key={scope}>
                  <input
                    type="checkbox"
                    name="scopes"
                    value={scope}
                    checked={scopes.has(scope)}
                    onChange={(e) => toggle(scope, e.currentTarget.checked)}
                  />{' '}
                  <code>{scope}</code>: {means}
                </label>
              ))}
            </fieldset>
            <div class="actions">
              <button type="submit" disabled={busy || scopes.size === 0}>
                Create key
              </button>
            </div>
          </form>
        </section>
      )}

      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading">Keys</h2>
        {keys === null ? (
          <p class="loading">Loading…</p>
        ) : keys.length === 0 ? (
          <p>No keys yet.</p>
        ) : (
          <div class="scroll" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Team</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">State</th>
                  {admin && (
                    <th scope="col">
                      <span class="visually-hidden">Action</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.id} data-key={k.name}>
                    <th scope="row">
                      {k.name}
                      <br />
                      <code class="hint">{k.key_prefix}…</code>
                    </th>
                    <td>{k.team}</td>
                    <td>{k.scopes.join(', ')}</td>
                    <td>{dateTime(k.created_at)}</td>
                    <td>{k.last_used_at ? dateTime(k.last_used_at) : 'never'}</td>
                    <td data-testid="key-state">
                      {k.revoked_at ? `revoked ${dateTime(k.revoked_at)}` : 'active'}
                    </td>
                    {admin && (
                      <td>
                        {!k.revoked_at && (
                          <button
                            type="button"
                            class="secondary"
                            disabled={busy}
                            onClick={() => setRevoking(k)}
                          >
                            Revoke {k.name}
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? ''}?`}
        confirmLabel="Revoke key"
        onConfirm={() => revoking && void revoke(revoking)}
        onCancel={() => setRevoking(null)}
      >
        <p>
          Every request with this key ({revoking?.key_prefix}…, team {revoking?.team}) is refused
          from now on. This cannot be undone: a service still using it needs a new key.
        </p>
      </ConfirmDialog>
    </main>
  );
}

import { ErrorAlert, Notice } from '../alerts';
import { useEffect, useState } from 'preact/hooks';
import type { Schemas } from '@app/api-client';
import { api, unwrap } from '../api';
import { count, dateTime, percent } from '../format';

/** Often enough to watch a backlog drain, rarely enough to cost the database nothing. */
export const REFRESH_MS = 3000;

export function OperationsPage() {
  const [state, setState] = useState<Schemas['QueueStateView'] | null>(null);
  const [failed, setFailed] = useState<Schemas['FailedCallbackView'][] | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [updatedAt, setUpdatedAt] = useState<string | null>(null);

  const refresh = async () => {
    try {
      const [queue, callbacks] = await Promise.all([
        unwrap(api.GET('/v1/queue')),
        unwrap(api.GET('/v1/callbacks/failed')),
      ]);
      setState(queue);
      setFailed(callbacks.data);
      setUpdatedAt(new Date().toISOString());
    } catch (e) {
      setError((e as Error).message);
    }
  };

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const act = async (work: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await work();
      setNotice(done);
      await refresh();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const rate = state?.send_rate;
  const failing = state?.accounts.filter((a) => a.health === 'failing') ?? [];
  return (
    <main>
      <h1 tabIndex={-1}>Operations</h1>
      <p class="hint">
        Refreshed every {REFRESH_MS / 1000} s{updatedAt ? `; last at ${dateTime(updatedAt)}` : ''}.
      </p>
      <Notice text={notice} />
      <ErrorAlert error={error} />
      {state && rate && (
        <>
          {failing.length > 0 && (
            <div class="paused" role="status" data-testid="provider-failing">
              {failing.map((a) => (
                <p key={a.name}>
                  <strong>The provider is failing</strong> for account {a.name}
                  {a.recent_calls.error_rate !== null &&
                    `: ${percent(a.recent_calls.error_rate)} of ${count(a.recent_calls.calls)} calls failed in the last ${a.recent_calls.window_seconds / 60} minutes`}
                  {lastError(a) && ` (last error ${lastError(a)})`}.
                </p>
              ))}
              <p>
                {count(state.backlog.in_retry)} messages in retry; the oldest unsent has waited{' '}
                {age(state.backlog.oldest_pending_seconds)}. They wait without losing attempts until
                their validity ends; nothing is failed for the outage.
              </p>
            </div>
          )}
          <section aria-labelledby="sending-heading">
            <h2 id="sending-heading">Sending</h2>
            {state.paused ? (
              <div class="paused" data-testid="pause-state">
                <p>
                  <strong>Paused</strong> since {dateTime(state.since)} by{' '}
                  {state.paused_by ?? 'unknown'} (
                  {state.reason === 'insufficient_credits' ? 'out of credits' : 'manual'})
                  {state.note ? `: ${state.note}` : ''}
                </p>
                <button
                  type="button"
                  onClick={() =>
                    void act(() => unwrap(api.POST('/v1/queue/resume')), 'Sending resumed.')
                  }
                >
                  Resume sending
                </button>
              </div>
            ) : (
              <form
                class="filters"
                data-testid="pause-state"
                onSubmit={(e) => {
                  e.preventDefault();
                  void act(
                    () => unwrap(api.POST('/v1/queue/pause', { body: { reason: reason.trim() } })),
                    'Sending paused.',
                  ).then(() => setReason(''));
                }}
              >
                <p>
                  <strong>{failing.length > 0 ? 'Not paused' : 'Sending'}</strong>
                  {failing.length > 0 &&
                    (failing.length === state.accounts.length
                      ? ': but the provider is failing, nothing goes out'
                      : `: but ${failing.map((a) => a.name).join(', ')} failing`)}
                </p>
                <label class="wide">
                  Reason for pausing
                  <input
                    required
                    maxLength={200}
                    value={reason}
                    onInput={(e) => setReason(e.currentTarget.value)}
                  />
                </label>
                <button type="submit">Pause sending</button>
              </form>
            )}
            <p>
              <label for="rate-meter" class="inline">
                Send rate: <strong data-testid="send-rate">{rate.per_second}</strong> / s over the
                last 10 s ({rate.per_second_last_minute} / s over a minute), plan limit{' '}
                {rate.plan_limit_per_second} / s
              </label>
              <meter
                id="rate-meter"
                min={0}
                max={rate.plan_limit_per_second}
                high={rate.plan_limit_per_second * 0.9}
                value={rate.per_second}
              />
            </p>
            <p>
              Credits:{' '}
              {state.credits.remaining === null
                ? 'not reported yet'
                : count(state.credits.remaining)}
              {state.credits.as_of ? ` (as of ${dateTime(state.credits.as_of)})` : ''}
            </p>
          </section>
          <section aria-labelledby="accounts-heading">
            <h2 id="accounts-heading">Provider accounts</h2>
            <div class="scroll" tabIndex={0}>
              <table data-testid="accounts">
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Takes</th>
                    <th scope="col">State</th>
                    <th scope="col">Errors (5 min)</th>
                    <th scope="col">Last error</th>
                    <th scope="col">Rate / limit</th>
                    <th scope="col">Credits</th>
                  </tr>
                </thead>
                <tbody>
                  {state.accounts.map((a) => (
                    <tr key={a.name} data-testid={`account-${a.name}`}>
                      <th scope="row">
                        {a.name} <span class="hint">({a.plan})</span>
                      </th>
                      <td>{routeOf(a)}</td>
                      <td>
                        <AccountHealth account={a} />
                      </td>
                      <td data-testid={`errors-${a.name}`}>
                        {a.recent_calls.error_rate === null
                          ? 'no calls'
                          : `${percent(a.recent_calls.error_rate)} (${count(a.recent_calls.failures)} of ${count(a.recent_calls.calls)})`}
                      </td>
                      <td>
                        {lastError(a) ?? '—'}
                        {lastErrorAt(a) ? ` at ${dateTime(lastErrorAt(a))}` : ''}
                      </td>
                      <td>
                        {a.per_second} / {a.limit_per_second} per s
                      </td>
                      <td>
                        {a.credits.remaining === null ? '—' : count(a.credits.remaining)}
                        {a.credits.as_of ? ` (as of ${dateTime(a.credits.as_of)})` : ''}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <section aria-labelledby="backlog-heading">
            <h2 id="backlog-heading">Backlog</h2>
            <dl class="tiles">
              <div>
                <dt>Pending</dt>
                <dd data-testid="pending">{count(state.backlog.pending)}</dd>
              </div>
              <div>
                <dt>Due now</dt>
                <dd>{count(state.backlog.pending_due)}</dd>
              </div>
              <div>
                <dt>Oldest unsent, since due</dt>
                <dd data-testid="oldest-unsent">{age(state.backlog.oldest_pending_seconds)}</dd>
              </div>
              <div>
                <dt>In retry</dt>
                <dd data-testid="in-retry">{count(state.backlog.in_retry)}</dd>
              </div>
              <div>
                <dt>In a worker&apos;s hands</dt>
                <dd>{count(state.backlog.claimed)}</dd>
              </div>
              <div>
                <dt>At the provider</dt>
                <dd>{count(state.backlog.at_provider)}</dd>
              </div>
              <div>
                <dt>Scheduled</dt>
                <dd>{count(state.backlog.scheduled)}</dd>
              </div>
              <div>
                <dt>Scheduled, due soon</dt>
                <dd>{count(state.backlog.scheduled_due_soon)}</dd>
              </div>
            </dl>
          </section>
        </>
      )}
      <section aria-labelledby="callbacks-heading">
        <h2 id="callbacks-heading">Failed status callbacks</h2>
        {failed === null || failed.length === 0 ? (
          <p>None.</p>
        ) : (
          <div class="scroll" tabIndex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Failed at</th>
                  <th scope="col">Event</th>
                  <th scope="col">Message</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Last answer</th>
                  <th scope="col">
                    <span class="visually-hidden">Action</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {failed.map((c) => (
                  <tr key={c.id}>
                    <td>{dateTime(c.updated_at)}</td>
                    <td>{c.event}</td>
                    <td>
                      <a href={`#/messages/${c.message_id}`}>{c.message_id.slice(0, 8)}…</a>
                    </td>
                    <td>{c.attempts}</td>
                    <td>{c.last_status_code ?? c.last_error ?? '—'}</td>
                    <td>
                      <button
                        type="button"
                        class="secondary"
                        onClick={() =>
                          void act(
                            () =>
                              unwrap(
                                api.POST('/v1/notifications/{id}/callbacks/redeliver', {
                                  params: { path: { id: c.notification_id } },
                                }),
                              ),
                            'Failed callbacks of that notification queued again.',
                          )
                        }
                      >
                        Redeliver
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </main>
  );
}

type Account = Schemas['AccountStateView'];

/** Which messages an account takes: its categories and teams, or any. */
function routeOf(account: Account): string {
  const categories = account.categories?.join(', ') ?? 'any category';
  const teams = account.teams ? `teams ${account.teams.join(', ')}` : 'any team';
  return `${categories}; ${teams}`;
}

const REASONS: Record<NonNullable<Account['circuit']['reason']>, string> = {
  provider_failing: 'the provider is failing',
  insufficient_credits: 'out of credits',
  authentication_failed: 'key refused',
};

/** The circuit's last error while it is open, else the latest failed call's. */
function lastError(account: Account): string | null {
  return account.circuit.last_error ?? account.recent_calls.last_error;
}

function lastErrorAt(account: Account): string | null {
  return account.circuit.last_error
    ? account.circuit.last_error_at
    : account.recent_calls.last_error_at;
}

/** Seconds as an on-call engineer reads them: 45 s, 12 min 5 s, 2 h 3 min. */
export function age(value: number | null): string {
  if (value === null) return '—';
  const s = Math.floor(value);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Sending, failing, or why not and since when: the words carry it, not a colour alone. */
function AccountHealth({ account }: { account: Account }) {
  const { circuit, health } = account;
  if (health === 'ok' && circuit.state === 'closed') return <span>Sending</span>;
  if (circuit.state === 'closed') {
    return (
      <div class="paused">
        <strong>Failing</strong>: most calls fail, messages wait and are retried
      </div>
    );
  }
  const why = circuit.reason ? REASONS[circuit.reason] : 'probing';
  return (
    <div class="paused">
      <strong>
        {health === 'failing' ? 'Failing' : 'Refused'},{' '}
        {circuit.state === 'open' ? 'paused' : 'probing'}
      </strong>
      : {why}
      {circuit.since ? ` since ${dateTime(circuit.since)}` : ''}
      {circuit.probe_at && circuit.state === 'open'
        ? `; next probe ${dateTime(circuit.probe_at)}`
        : ''}
    </div>
  );
}

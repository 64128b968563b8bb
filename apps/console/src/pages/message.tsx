import { ErrorAlert, Notice } from '../alerts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { FINAL_STATUSES, type MessageStatus, type Schemas } from '@app/api-client';
import { ApiError, api, unwrap } from '../api';
import { dateTime, eventSummary, PROTECTION_ERRORS } from '../format';

type Detail = Schemas['MessageDetail'];
type Callback = Schemas['CallbackDeliveryView'];

const FINAL = new Set<MessageStatus>(FINAL_STATUSES);

export function MessagePage({ id }: { id: string }) {
  const [message, setMessage] = useState<Detail | null>(null);
  const [callbacks, setCallbacks] = useState<Callback[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setMessage(null);
    setCallbacks(null);
    setError(null);
    const load = async () => {
      try {
        const m = await unwrap(api.GET('/v1/messages/{id}', { params: { path: { id } } }));
        if (stopped) return;
        setMessage(m);
        const list = await unwrap(
          api.GET('/v1/notifications/{id}/callbacks', {
            params: { path: { id: m.notification_id } },
          }),
        ).catch(() => ({ data: [] as Callback[] }));
        if (stopped) return;
        setCallbacks(list.data.filter((c) => c.message_id === id));
        // Follow a message still on its way until it is final.
        if (!FINAL.has(m.status)) timer = setTimeout(() => void load(), 2000);
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [id]);

  const resend = async () => {
    setConfirming(false);
    setBusy(true);
    setError(null);
    try {
      const result = await unwrap(
        api.POST('/v1/messages/{id}/resend', { params: { path: { id } } }),
      );
      setNotice(
        result.created ? 'Resent as a new message.' : 'This message had been resent already.',
      );
      location.hash = `#/messages/${result.message.id}`;
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 403
          ? 'This key may not send (notifications:send).'
          : (e as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <h1 tabIndex={-1}>Message</h1>
      <p>
        <a href="#/messages">Back to search</a>
      </p>
      <Notice text={notice} />
      <ErrorAlert error={error} />
      {message && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <span class={`status status-${message.status}`} data-testid="message-status">
                {message.status}
              </span>
              {message.error && (
                <>
                  {' '}
                  <code>{message.error.code}</code>: {message.error.message}
                  {PROTECTION_ERRORS[message.error.code] && (
                    <p class="hint" data-testid="protection-note">
                      {PROTECTION_ERRORS[message.error.code]}
                    </p>
                  )}
                </>
              )}
            </dd>
            <dt>Category</dt>
            <dd data-testid="message-category">{message.category}</dd>
            <dt title="Past this instant it is no longer handed to the provider: it ends expired">
              Valid until
            </dt>
            <dd data-testid="message-expires-at">{dateTime(message.expires_at)}</dd>
            <dt>To</dt>
            <dd>{message.to}</dd>
            <dt>Template</dt>
            <dd>{message.template}</dd>
            <dt>Team</dt>
            <dd>{message.team}</dd>
            <dt>Reference</dt>
            <dd>{message.reference ?? '—'}</dd>
            <dt>Notification</dt>
            <dd>
              <a href={`#/messages?q=${message.notification_id}`}>{message.notification_id}</a>
            </dd>
            <dt>Provider id</dt>
            <dd>{message.provider_message_id ?? '—'}</dd>
            <dt>Attempts</dt>
            <dd>{message.attempts}</dd>
            {message.resend_of && (
              <>
                <dt>Resend of</dt>
                <dd>
                  <a href={`#/messages/${message.resend_of}`}>{message.resend_of}</a>
                </dd>
              </>
            )}
            {message.resent_as && (
              <>
                <dt>Resent as</dt>
                <dd>
                  <a href={`#/messages/${message.resent_as}`}>{message.resent_as}</a>
                </dd>
              </>
            )}
          </dl>
          {(message.status === 'failed' || message.status === 'expired') &&
            !message.resent_as &&
            (confirming ? (
              <ResendConfirmation
                to={message.to}
                onConfirm={() => void resend()}
                onCancel={() => setConfirming(false)}
              />
            ) : (
              <button type="button" onClick={() => setConfirming(true)} disabled={busy}>
                {busy ? 'Resending…' : 'Resend'}
              </button>
            ))}
          <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">Timeline</h2>
            <div class="scroll" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Event</th>
                    <th scope="col">Status</th>
                    <th scope="col">Source</th>
                    <th scope="col">Details</th>
                  </tr>
                </thead>
                <tbody>
                  {message.events.map((e, i) => (
                    <tr key={i}>
                      <td>{dateTime(e.occurred_at)}</td>
                      <td>{e.type}</td>
                      <td>{e.status ?? '—'}</td>
                      <td>{e.source}</td>
                      <td>
                        {eventSummary(e.type, e.details) ??
                          (e.details ? (
                            <code class="details">{JSON.stringify(e.details)}</code>
                          ) : (
                            '—'
                          ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <section aria-labelledby="callbacks-heading">
            <h2 id="callbacks-heading">Status callbacks</h2>
            {callbacks === null || callbacks.length === 0 ? (
              <p>None: the notification has no callback URL, or no status change was sent yet.</p>
            ) : (
              <div class="scroll" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Event</th>
                      <th scope="col">Outcome</th>
                      <th scope="col">Attempts</th>
                      <th scope="col">Last answer</th>
                      <th scope="col">Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {callbacks.map((c) => (
                      <tr key={c.id}>
                        <td>{c.event}</td>
                        <td>{c.status}</td>
                        <td>{c.attempts}</td>
                        <td>{c.last_status_code ?? c.last_error ?? '—'}</td>
                        <td>{dateTime(c.updated_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </main>
  );
}

/**
 * A resend is a real SMS to a real phone, and may cost credits: it is asked once more, saying
 * what will happen. Focus lands on the question so a keyboard user hears it.
 */
function ResendConfirmation({
  to,
  onConfirm,
  onCancel,
}: {
  to: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => confirm.current?.focus(), []);
  return (
    <div class="confirm" role="group" aria-labelledby="resend-question">
      <p id="resend-question">
        Send this message to {to} again? It goes out as a new message linked to this one, and costs
        its credits again. Your key is recorded as who asked.
      </p>
      <button type="button" ref={confirm} onClick={onConfirm}>
        Resend now
      </button>{' '}
      <button type="button" class="secondary" onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

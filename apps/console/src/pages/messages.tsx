import { ErrorAlert, Notice } from '../alerts';
import { useEffect, useRef, useState } from 'preact/hooks';
import {
  MESSAGE_STATUSES,
  type MessageStatus,
  type operations,
  type Schemas,
} from '@app/api-client';
import { CategoryPicker } from '../category-picker';
import { ApiError, api, query, unwrap } from '../api';
import { categoryOf, count, dateTime } from '../format';

type Filters = NonNullable<operations['searchMessages']['parameters']['query']>;
type Row = Schemas['MessageSummary'];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the one search box means: an id, a number, a provider id, or else a caller reference. */
export function searchParams(
  text: string,
): Pick<Filters, 'notification_id' | 'to' | 'provider_message_id' | 'reference'> {
  const q = text.trim();
  if (q === '') return {};
  if (UUID.test(q)) return { notification_id: q.toLowerCase() };
  const digits = q.replace(/[\s().-]/g, '');
  if (/^\+[1-9]\d{6,14}$/.test(digits)) return { to: digits };
  if (/^msg_/.test(q)) return { provider_message_id: q };
  return { reference: q };
}

/** A status from a link or the picker; anything else (a stale link) means any status. */
function statusOf(value: string | null): MessageStatus | '' {
  return MESSAGE_STATUSES.find((s) => s === value) ?? '';
}

export function MessagesPage({ route }: { route: string }) {
  const initial = new URLSearchParams(route.split('?')[1] ?? '');
  const [text, setText] = useState(initial.get('q') ?? '');
  const [status, setStatus] = useState(statusOf(initial.get('status')));
  const [category, setCategory] = useState(categoryOf(initial.get('category')));
  const errorCode = initial.get('error_code') ?? '';
  const [rows, setRows] = useState<Row[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const filters = (): Filters => ({
    ...searchParams(text),
    status: status || undefined,
    category: category || undefined,
    error_code: errorCode || undefined,
  });

  const run = async (after?: string) => {
    setError(null);
    try {
      const page = await unwrap(
        api.GET('/v1/messages', { params: { query: { ...filters(), cursor: after } } }),
      );
      // An id that is no notification's may be a message's own: open that message.
      const id = searchParams(text).notification_id;
      if (id && !after && page.data.length === 0) {
        const found = await unwrap(
          api.GET('/v1/messages/{id}', { params: { path: { id } } }),
        ).catch(() => null);
        if (found) {
          location.hash = `#/messages/${found.id}`;
          return;
        }
      }
      setRows((before) => (after && before ? [...before, ...page.data] : page.data));
      setCursor(page.next_cursor);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  useEffect(() => {
    void run();
    // Only on arrival (and on a new link from another page): the form runs later searches.
  }, [route]);

  return (
    <main>
      <h1 tabIndex={-1}>Messages</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const next = `#/messages?${query({ q: text.trim(), status, category, error_code: errorCode })}`;
          if (location.hash === next) void run();
          else location.hash = next;
        }}
      >
        <label class="wide">
          Notification or message id, reference, phone number or provider id
          <input
            name="q"
            value={text}
            placeholder="+14155550100, msg_…, order-77 or a notification id"
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(statusOf(e.currentTarget.value))}>
            <option value="">any</option>
            {MESSAGE_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <CategoryPicker value={category} every="any" onChange={setCategory} />
        <button type="submit">Search</button>
      </form>
      {errorCode && (
        <p class="hint">
          Only messages with error code <code>{errorCode}</code>.
        </p>
      )}
      <ErrorAlert error={error} />
      <div aria-live="polite">
        {rows && (
          <p class="hint">
            {rows.length === 0 ? 'No messages found.' : `${rows.length} shown, newest first.`}
          </p>
        )}
      </div>
      {rows && rows.length > 0 && (
        <div class="scroll" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Submitted</th>
                <th scope="col">To</th>
                <th scope="col">Template</th>
                <th scope="col">Category</th>
                <th scope="col">Reference</th>
                <th scope="col">Status</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={m.id}>
                  <td>
                    <a href={`#/messages/${m.id}`}>{dateTime(m.submitted_at)}</a>
                  </td>
                  <td>{m.to}</td>
                  <td>{m.template}</td>
                  <td>{m.category}</td>
                  <td>{m.reference ?? '—'}</td>
                  <td>
                    <span class={`status status-${m.status}`}>{m.status}</span>
                    {m.resend_of && <span class="hint"> (resend)</span>}
                  </td>
                  <td>{m.error ? <code>{m.error.code}</code> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" class="secondary" onClick={() => void run(cursor)}>
          Older messages
        </button>
      )}
      <BulkResend
        initialStatus={status === 'expired' ? 'expired' : 'failed'}
        initialErrorCode={errorCode}
        onDone={() => void run()}
      />
    </main>
  );
}

type ResendFilter = Omit<Schemas['BulkResendDto'], 'dry_run'>;

/** A `datetime-local` value (the browser's own time zone) as an instant the API takes. */
function instantOf(local: string): string | undefined {
  if (!local) return undefined;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/**
 * Failed or expired messages sent again by filter, in two steps: a dry run answers how many
 * match, then the operator confirms that number (what the API resends may be a few more if more
 * failed meanwhile; the answer says). Changing the filter withdraws the count.
 */
function BulkResend({
  initialStatus,
  initialErrorCode,
  onDone,
}: {
  initialStatus: 'failed' | 'expired';
  initialErrorCode: string;
  onDone: () => void;
}) {
  const [resendStatus, setResendStatus] = useState<'failed' | 'expired' | ''>(initialStatus);
  const [template, setTemplate] = useState('');
  const [code, setCode] = useState(initialErrorCode);
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [counted, setCounted] = useState<{ filter: ResendFilter; matched: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const confirm = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (counted && counted.matched > 0) confirm.current?.focus();
  }, [counted]);

  const filter = (): ResendFilter => ({
    status: resendStatus || undefined,
    template: template.trim() || undefined,
    error_code: code.trim() || undefined,
    since: instantOf(since),
    until: instantOf(until),
  });

  /** Any edit of the filter: the count no longer describes it. */
  const edit =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      set(value);
      setCounted(null);
      setNotice(null);
    };

  const call = async (body: Schemas['BulkResendDto']) => {
    setBusy(true);
    setError(null);
    try {
      return await unwrap(api.POST('/v1/messages/resend', { body }));
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 403
          ? 'This key may not send (notifications:send).'
          : (e as Error).message,
      );
      return null;
    } finally {
      setBusy(false);
    }
  };

  const countMatching = async () => {
    setNotice(null);
    const asked = filter();
    const result = await call({ ...asked, dry_run: true });
    if (result) setCounted({ filter: asked, matched: result.matched });
  };

  const resend = async () => {
    if (!counted) return;
    const result = await call({ ...counted.filter, dry_run: false });
    if (!result) return;
    setCounted(null);
    setNotice(
      `Resent ${count(result.resent)} messages.` +
        (result.remaining > 0
          ? ` ${count(result.remaining)} more match: count again to resend the next ones.`
          : ''),
    );
    onDone();
  };

  return (
    <section aria-labelledby="bulk-resend-heading">
      <h2 id="bulk-resend-heading">Resend in bulk</h2>
      <p class="hint">
        Failed or expired messages matching a filter go out again as new messages, oldest first, at
        most 1,000 at a time; a message is resent only once. Count first, then confirm.
      </p>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void countMatching();
        }}
      >
        <label>
          Status
          <select
            value={resendStatus}
            onChange={(e) =>
              edit(setResendStatus)(e.currentTarget.value as 'failed' | 'expired' | '')
            }
          >
            <option value="failed">failed</option>
            <option value="expired">expired</option>
            <option value="">failed or expired</option>
          </select>
        </label>
        <label>
          Template key
          <input
            name="template"
            value={template}
            placeholder="any"
            onInput={(e) => edit(setTemplate)(e.currentTarget.value)}
          />
        </label>
        <label>
          Error code
          <input
            name="error_code"
            value={code}
            placeholder="any"
            onInput={(e) => edit(setCode)(e.currentTarget.value)}
          />
        </label>
        <label>
          Submitted from
          <input
            type="datetime-local"
            value={since}
            onInput={(e) => edit(setSince)(e.currentTarget.value)}
          />
        </label>
        <label>
          Submitted before
          <input
            type="datetime-local"
            value={until}
            onInput={(e) => edit(setUntil)(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="secondary" disabled={busy}>
          Count matching messages
        </button>
      </form>
      <ErrorAlert error={error} />
      <Notice text={notice} />
      <div aria-live="polite">
        {counted && counted.matched === 0 && (
          <p data-testid="resend-count">No failed or expired message matches: nothing to resend.</p>
        )}
        {counted && counted.matched > 0 && (
          <div class="confirm" role="group" aria-labelledby="bulk-resend-question">
            <p id="bulk-resend-question" data-testid="resend-count">
              {count(counted.matched)} messages match
              {counted.matched > 1000 ? '; the first 1,000 go now' : ''}. Resend them? Each is a new
              SMS to its recipient and costs its credits again.
            </p>
            <button type="button" ref={confirm} disabled={busy} onClick={() => void resend()}>
              Resend {count(Math.min(counted.matched, 1000))} messages
            </button>{' '}
            <button type="button" class="secondary" onClick={() => setCounted(null)}>
              Cancel
            </button>
          </div>
        )}
      </div>
    </section>
  );
}

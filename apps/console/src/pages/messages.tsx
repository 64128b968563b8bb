import { ErrorAlert } from '../alerts';
import { useEffect, useState } from 'preact/hooks';
import {
  MESSAGE_STATUSES,
  type MessageStatus,
  type operations,
  type Schemas,
} from '@app/api-client';
import { CategoryPicker } from '../category-picker';
import { api, query, unwrap } from '../api';
import { categoryOf, dateTime } from '../format';

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
      )}
      {cursor && (
        <button type="button" class="secondary" onClick={() => void run(cursor)}>
          Older messages
        </button>
      )}
    </main>
  );
}

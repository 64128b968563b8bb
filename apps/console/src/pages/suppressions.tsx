import { ErrorAlert, Notice } from '../alerts';
import { useRef, useState } from 'preact/hooks';
import type { Schemas } from '@app/api-client';
import { api, unwrap } from '../api';
import { count, dateTime } from '../format';

type Entry = Schemas['Suppression'];
type Scope = Entry['scope'];

const SCOPES: { value: Scope; label: string }[] = [
  { value: 'marketing', label: 'marketing' },
  { value: 'all', label: 'all (marketing and transactional)' },
];

/** A number as people write it (+49 151 2345-6789) in the E.164 form the API takes. */
export function e164(text: string): string {
  return text.replace(/[\s().-]/g, '');
}

/** One line of an import's refusal, as the API lists it in `details.problems`. */
interface LineProblem {
  line: number;
  problem: string;
}

function problemsOf(details: unknown): { problems: LineProblem[]; total: number } | null {
  const d = details as { problems?: unknown; problem_count?: unknown } | undefined;
  if (!d || !Array.isArray(d.problems)) return null;
  return {
    problems: d.problems as LineProblem[],
    total: typeof d.problem_count === 'number' ? d.problem_count : d.problems.length,
  };
}

/**
 * The company-wide suppression list: look a number up (its entries and their history), add one,
 * remove one with a reason, import a CSV file (all or nothing) and export the list.
 */
export function SuppressionsPage() {
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const [lookup, setLookup] = useState('');
  const [looked, setLooked] = useState<string | null>(null);
  const [entries, setEntries] = useState<Entry[] | null>(null);

  const [to, setTo] = useState('');
  const [scope, setScope] = useState<Scope>('marketing');
  const [reason, setReason] = useState('');

  const [removing, setRemoving] = useState<Entry | null>(null);
  const [removalReason, setRemovalReason] = useState('');
  const dialog = useRef<HTMLDialogElement>(null);

  const [file, setFile] = useState<File | null>(null);
  const [importing, setImporting] = useState(false);
  const [lineProblems, setLineProblems] = useState<{
    problems: LineProblem[];
    total: number;
  } | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const say = (text: string) => {
    setError(null);
    setNotice(text);
  };
  const fail = (e: unknown) => {
    setNotice(null);
    setError((e as Error).message);
  };

  const show = async (number: string) => {
    const page = await unwrap(
      api.GET('/v1/suppressions', {
        params: { query: { to: number, include_removed: 'true', limit: '50' } },
      }),
    );
    setLooked(number);
    setEntries(page.data);
  };

  const add = async () => {
    const number = e164(to);
    const {
      data,
      response,
      error: failure,
    } = await api.POST('/v1/suppressions', {
      body: { to: number, scope, reason: reason.trim() || undefined, source: 'console' },
    });
    if (!response.ok || !data) {
      throw new Error(failure?.error.message ?? `HTTP ${response.status}`);
    }
    say(
      response.status === 201
        ? `Added ${data.to} (${data.scope}).`
        : `${data.to} was already listed (${data.scope}) since ${dateTime(data.created_at)}.`,
    );
    setTo('');
    setReason('');
    setLookup(number);
    await show(number);
  };

  const confirmRemoval = (entry: Entry) => {
    setRemoving(entry);
    setRemovalReason('');
    dialog.current?.showModal();
  };

  const remove = async () => {
    if (!removing) return;
    await unwrap(
      api.DELETE('/v1/suppressions/{to}', {
        params: {
          path: { to: removing.to },
          query: { scope: removing.scope, reason: removalReason.trim() || undefined },
        },
      }),
    );
    dialog.current?.close();
    say(`Removed ${removing.to} (${removing.scope}); the entry is kept as history.`);
    setRemoving(null);
    await show(removing.to);
  };

  const importFile = async () => {
    if (!file) return;
    setImporting(true);
    setLineProblems(null);
    try {
      const text = await file.text();
      const {
        data,
        response,
        error: failure,
      } = await api.POST('/v1/suppressions/import', {
        body: text,
        bodySerializer: (body: string) => body,
        headers: { 'content-type': 'text/csv' },
      });
      if (response.ok && data) {
        say(
          `Imported ${count(data.imported)} entries from ${file.name}; ` +
            `skipped ${count(data.skipped)} already listed.`,
        );
        setFile(null);
        if (fileInput.current) fileInput.current.value = '';
        return;
      }
      const envelope = failure?.error;
      setNotice(null);
      setError(`Nothing was imported. ${envelope?.message ?? `HTTP ${response.status}`}`);
      setLineProblems(problemsOf(envelope?.details));
    } finally {
      setImporting(false);
    }
  };

  const exportFile = async () => {
    const { data, response } = await api.GET('/v1/suppressions/export', { parseAs: 'blob' });
    if (!response.ok || !data) throw new Error(`The export failed (HTTP ${response.status})`);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(data);
    link.download = `suppressions-${new Date().toISOString().slice(0, 10)}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    // Revoked at once, the URL could be gone before the browser has started reading it.
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    say('The export is downloaded: every live entry, numbers unmasked.');
  };

  const act = (work: () => Promise<void>) => (event?: Event) => {
    event?.preventDefault();
    work().catch(fail);
  };

  return (
    <main class="suppressions">
      <h1 tabIndex={-1}>Suppressions</h1>
      <p class="hint">
        Numbers that must not receive messages, for every team. A one-time code always goes through;{' '}
        <em>marketing</em> stops marketing messages, <em>all</em> stops marketing and transactional
        ones.
      </p>
      <Notice text={notice} />
      <ErrorAlert error={error} />
      {lineProblems && lineProblems.problems.length > 0 && (
        <section aria-labelledby="problems-heading" class="problems">
          <h2 id="problems-heading">
            Problems in the file ({count(lineProblems.total)}
            {lineProblems.total > lineProblems.problems.length
              ? `, the first ${lineProblems.problems.length} shown`
              : ''}
            )
          </h2>
          <ul>
            {lineProblems.problems.map((p, i) => (
              <li key={i}>
                Line {p.line}: {p.problem}
              </li>
            ))}
          </ul>
        </section>
      )}

      <section aria-labelledby="lookup-heading">
        <h2 id="lookup-heading">Look up a number</h2>
        <form
          class="filters"
          role="search"
          aria-label="Look up a number"
          onSubmit={act(async () => {
            setNotice(null);
            setError(null);
            await show(e164(lookup));
          })}
        >
          <label class="wide">
            Phone number to look up
            <input
              type="tel"
              name="lookup"
              required
              autocomplete="off"
              placeholder="+4915123456789"
              value={lookup}
              onInput={(e) => setLookup(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Look up</button>
        </form>
        <div aria-live="polite">
          {entries && looked && (
            <p class="hint" data-testid="lookup-result">
              {entries.some((e) => e.removed_at === null)
                ? `${looked} is suppressed.`
                : `${looked} is not suppressed.`}
              {entries.length > 0 ? ' Its entries, newest first:' : ''}
            </p>
          )}
        </div>
        {entries && entries.length > 0 && (
          <div class="scroll" tabIndex={0}>
            <table>
              <caption class="visually-hidden">Entries of {looked}</caption>
              <thead>
                <tr>
                  <th scope="col">Scope</th>
                  <th scope="col">Added</th>
                  <th scope="col">Reason</th>
                  <th scope="col">State</th>
                  <th scope="col">
                    <span class="visually-hidden">Action</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {entries.map((entry) => (
                  <tr key={entry.id}>
                    <td>{entry.scope}</td>
                    <td>
                      {dateTime(entry.created_at)}
                      <br />
                      <span class="hint">
                        by {entry.created_by_team ?? '—'}
                        {entry.source ? `, ${entry.source}` : ''}
                      </span>
                    </td>
                    <td>{entry.reason ?? '—'}</td>
                    <td>
                      {entry.removed_at === null ? (
                        <strong>active</strong>
                      ) : (
                        <>
                          removed {dateTime(entry.removed_at)} by {entry.removed_by_team ?? '—'}
                          {entry.removal_reason ? `: ${entry.removal_reason}` : ''}
                        </>
                      )}
                    </td>
                    <td>
                      {entry.removed_at === null && (
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Remove ${entry.scope} entry`}
                          onClick={() => confirmRemoval(entry)}
                        >
                          Remove
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="add-heading">
        <h2 id="add-heading">Add a number</h2>
        <form class="filters" aria-labelledby="add-heading" onSubmit={act(add)}>
          <label class="wide">
            Phone number to add
            <input
              type="tel"
              name="to"
              required
              autocomplete="off"
              placeholder="+4915123456789"
              value={to}
              onInput={(e) => setTo(e.currentTarget.value)}
            />
          </label>
          <label>
            Scope
            <select
              value={scope}
              aria-describedby="scope-help"
              onChange={(e) => setScope(e.currentTarget.value as Scope)}
            >
              {SCOPES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
          <label class="wide">
            Reason
            <input
              name="reason"
              maxLength={500}
              placeholder="Asked by phone to receive no offers"
              value={reason}
              onInput={(e) => setReason(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Add</button>
        </form>
        <p class="hint" id="scope-help">
          Scope <em>marketing</em> stops marketing messages; <em>all</em> stops marketing and
          transactional ones. One-time codes always go through.
        </p>
      </section>

      <section aria-labelledby="import-heading">
        <h2 id="import-heading">Import a CSV file</h2>
        <p class="hint" id="import-help">
          A header line <code>to,scope,reason</code> (reason optional), then one number per line, at
          most 100,000. All or nothing: a file with any bad line imports nothing and the problems
          are listed with their line numbers. Numbers already listed are skipped.
        </p>
        <form class="filters" aria-labelledby="import-heading" onSubmit={act(importFile)}>
          <label class="wide">
            CSV file
            <input
              ref={fileInput}
              type="file"
              name="file"
              accept=".csv,text/csv"
              required
              aria-describedby="import-help"
              onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
            />
          </label>
          <button type="submit" disabled={importing}>
            {importing ? 'Importing…' : 'Import'}
          </button>
        </form>
      </section>

      <section aria-labelledby="export-heading">
        <h2 id="export-heading">Export</h2>
        <p class="hint">
          Every live entry as CSV (<code>to,scope,reason,source,created_at</code>), numbers
          unmasked, for another system.
        </p>
        <button type="button" class="secondary" onClick={act(exportFile)}>
          Download CSV
        </button>
      </section>

      <dialog ref={dialog} aria-labelledby="remove-heading" onClose={() => setRemoving(null)}>
        {removing && (
          <form method="dialog" onSubmit={act(remove)}>
            <h2 id="remove-heading">
              Remove {removing.to} ({removing.scope})?
            </h2>
            <p>
              Messages of this scope may reach the number again. The entry stays as history with
              your reason.
            </p>
            <label>
              Reason for removing
              <input
                name="removal_reason"
                required
                maxLength={500}
                value={removalReason}
                onInput={(e) => setRemovalReason(e.currentTarget.value)}
              />
            </label>
            <div class="actions">
              <button type="submit">Confirm removal</button>
              <button type="button" class="secondary" onClick={() => dialog.current?.close()}>
                Cancel
              </button>
            </div>
          </form>
        )}
      </dialog>
    </main>
  );
}

import { ErrorAlert, Notice } from '../alerts';
import { useEffect, useState } from 'preact/hooks';
import { FINAL_STATUSES, type MessageStatus, type Schemas } from '@app/api-client';
import { ApiError, api, unwrap } from '../api';
import { ConfirmDialog } from '../confirm-dialog';
import { dateTime } from '../format';
import { costInWords, type Fields, TemplateFields, variablesOf } from './template-preview';

type Template = Schemas['TemplateResponse'];
type Version = Schemas['TemplateVersionResponse'];
type Draft = Schemas['TemplateDraftResponse'];
type Diff = Schemas['TemplateDiffResponse'];
type Accepted = Schemas['AcceptedNotification'];

const FINAL = new Set<MessageStatus>(FINAL_STATUSES);
/** How often a test message is read again until it is final. */
const FOLLOW_MS = 1000;

function fieldsOf(from: Draft | Template): Fields {
  return {
    body: from.body,
    category: from.category,
    smartEncoding: from.smart_encoding,
    description: from.description ?? '',
  };
}

function sameFields(a: Fields, b: Fields): boolean {
  return (
    a.body === b.body &&
    a.category === b.category &&
    a.smartEncoding === b.smartEncoding &&
    a.description.trim() === b.description.trim()
  );
}

/**
 * One template: its live version, a draft to change it (previewed, test-sent, then published
 * explicitly), a test send followed to its end, its versions with a diff between any two, and a
 * roll back (a new version equal to an old one) after a confirmation.
 */
export function TemplateDetail({
  templateKey,
  owner,
  admin,
}: {
  templateKey: string;
  owner: string | null;
  admin: boolean;
}) {
  const [template, setTemplate] = useState<Template | null>(null);
  const [versions, setVersions] = useState<Version[]>([]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [fields, setFields] = useState<Fields | null>(null);
  const [samples, setSamples] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [restoring, setRestoring] = useState<number | null>(null);

  const query = owner ? { owner_team: owner } : {};
  const path = { key: templateKey };

  const load = async () => {
    const [t, drafts] = await Promise.all([
      unwrap(api.GET('/v1/templates/{key}', { params: { path, query } })),
      unwrap(api.GET('/v1/templates/{key}/drafts', { params: { path, query } })).catch(
        (e: unknown) => {
          // A team key has no drafts of a shared template to read (403): it only sends with it.
          if (e instanceof ApiError && e.status === 403) return { data: [] as Draft[] };
          throw e;
        },
      ),
    ]);
    const all: Version[] = [];
    let cursor: string | undefined;
    do {
      const page = await unwrap(
        api.GET('/v1/templates/{key}/versions', {
          params: { path, query: { ...query, limit: '100', cursor } },
        }),
      );
      all.push(...page.data);
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    setTemplate(t);
    setVersions(all);
    const d = drafts.data[0] ?? null;
    setDraft(d);
    setFields(d ? fieldsOf(d) : null);
  };

  useEffect(() => {
    setTemplate(null);
    setError(null);
    setNotice(null);
    load().catch((e: Error) => setError(e.message));
  }, [templateKey, owner]);

  /** Runs an action, showing its failure; true when it worked. */
  const act = async (action: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await action();
      return true;
    } catch (e) {
      setError((e as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const startDraft = () =>
    act(async () => {
      if (!template) return;
      const d = await unwrap(
        api.POST('/v1/templates/{key}/drafts', {
          params: { path, query },
          body: { body: template.body },
        }),
      );
      setDraft(d);
      setFields(fieldsOf(d));
    });

  const saveDraft = () =>
    act(async () => {
      if (!draft || !fields) return;
      const saved = await unwrap(
        api.PUT('/v1/templates/{key}/drafts/{id}', {
          params: { path: { ...path, id: draft.id }, query },
          body: {
            body: fields.body,
            category: fields.category,
            smart_encoding: fields.smartEncoding,
            description: fields.description.trim() || null,
          },
        }),
      );
      setDraft(saved);
      setFields(fieldsOf(saved));
      setNotice(
        `Draft saved (based on version ${saved.based_on_version}). Callers still get version ${template?.version}.`,
      );
    });

  const publish = () =>
    act(async () => {
      if (!draft) return;
      try {
        const published = await unwrap(
          api.POST('/v1/templates/{key}/drafts/{id}/publish', {
            params: { path: { ...path, id: draft.id }, query },
          }),
        );
        await load();
        setNotice(`Published as version ${published.version}: new notifications use it now.`);
      } catch (e) {
        if (e instanceof ApiError && e.code === 'draft_outdated') {
          throw new Error(
            `${e.message} Check the draft against the current version, save it again, then publish.`,
          );
        }
        throw e;
      }
    });

  const discard = () =>
    act(async () => {
      if (!draft) return;
      await unwrap(
        api.DELETE('/v1/templates/{key}/drafts/{id}', {
          params: { path: { ...path, id: draft.id }, query },
        }),
      );
      setDraft(null);
      setFields(null);
      setNotice('Draft discarded.');
    });

  const restore = (n: number) =>
    act(async () => {
      setRestoring(null);
      const made = await unwrap(
        api.POST('/v1/templates/{key}/versions/{n}/restore', {
          params: { path: { ...path, n }, query },
        }),
      );
      await load();
      setNotice(`Rolled back: version ${made.version} is version ${n} again, live now.`);
    });

  if (!template) {
    return (
      <main>
        <h1 tabIndex={-1}>Template {templateKey}</h1>
        <ErrorAlert error={error} />
        {!error && <p class="loading">Loading…</p>}
      </main>
    );
  }

  const dirty = Boolean(draft && fields && !sameFields(fields, fieldsOf(draft)));
  // A team changes its own templates; a shared one only an admin (the API says 403 otherwise).
  const canChange = admin || template.owner_team !== null;

  return (
    <main>
      <h1 tabIndex={-1}>Template {template.key}</h1>
      <p>
        <a href="#/templates">Back to templates</a>
      </p>
      <dl class="facts">
        <dt>Team</dt>
        <dd>{template.owner_team ?? 'shared'}</dd>
        <dt>Category</dt>
        <dd>{template.category}</dd>
        <dt>Live version</dt>
        <dd data-testid="live-version">{template.version}</dd>
        <dt>Smart encoding</dt>
        <dd>{template.smart_encoding ? 'on' : 'off'}</dd>
        <dt>Updated</dt>
        <dd>{dateTime(template.updated_at)}</dd>
      </dl>
      <Notice text={notice} />
      <ErrorAlert error={error} />

      <section aria-labelledby="live-heading">
        <h2 id="live-heading">Live version {template.version}</h2>
        <pre class="sms" data-testid="live-body">
          {template.body}
        </pre>
        {template.warnings.map((w) => (
          <p key={w.code} class="warning">
            {costInWords(w)}
          </p>
        ))}
      </section>

      <section aria-labelledby="draft-heading">
        <h2 id="draft-heading">Draft</h2>
        {!canChange ? (
          <p class="hint">
            A shared template: every team sends with it, only an admin changes it. You can preview
            it and send a test.
          </p>
        ) : !draft || !fields ? (
          <>
            <p class="hint">
              Changes go to a draft first: callers keep the live version until you publish it.
            </p>
            <button type="button" disabled={busy} onClick={() => void startDraft()}>
              Edit in a draft
            </button>
          </>
        ) : (
          <form
            class="template-form"
            onSubmit={(e) => {
              e.preventDefault();
              void saveDraft();
            }}
          >
            <p class="hint" data-testid="draft-state">
              Based on version {draft.based_on_version}, saved {dateTime(draft.updated_at)}
              {dirty ? '; unsaved changes.' : '.'}
            </p>
            <TemplateFields
              fields={fields}
              onChange={setFields}
              samples={samples}
              onSamples={setSamples}
            />
            <div class="actions">
              <button type="submit" disabled={busy || !dirty}>
                Save draft
              </button>
              <button
                type="button"
                disabled={busy || dirty}
                aria-describedby={dirty ? 'publish-help' : undefined}
                onClick={() => void publish()}
              >
                Publish draft
              </button>
              <button
                type="button"
                class="secondary"
                disabled={busy}
                onClick={() => void discard()}
              >
                Discard draft
              </button>
            </div>
            {dirty && (
              <p class="hint" id="publish-help">
                Save the draft to test-send or publish it.
              </p>
            )}
          </form>
        )}
      </section>

      <TestSend
        templateKey={template.key}
        query={query}
        draft={draft && !dirty ? draft : null}
        version={template.version}
        variables={variablesOf(samples)}
      />

      <Versions
        versions={versions}
        templateKey={template.key}
        query={query}
        busy={busy}
        onRestore={canChange ? setRestoring : null}
      />

      <ConfirmDialog
        open={restoring !== null}
        title={`Roll back to version ${restoring}?`}
        confirmLabel={`Roll back to version ${restoring}`}
        onConfirm={() => restoring !== null && void restore(restoring)}
        onCancel={() => setRestoring(null)}
      >
        <p>
          Version {template.version + 1} will be made equal to version {restoring}, and every new
          notification uses it at once. No version is changed or removed: you can roll forward the
          same way.
        </p>
      </ConfirmDialog>
    </main>
  );
}

/** A test to one number, of the saved draft or the live version, followed until it is final. */
function TestSend({
  templateKey,
  query,
  draft,
  version,
  variables,
}: {
  templateKey: string;
  query: { owner_team?: string };
  draft: Draft | null;
  version: number;
  variables: Record<string, unknown>;
}) {
  const [to, setTo] = useState('');
  const [sent, setSent] = useState<Accepted | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const messageId = sent?.messages[0]?.id;

  useEffect(() => {
    if (!messageId) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const follow = async () => {
      try {
        const m = await unwrap(
          api.GET('/v1/messages/{id}', { params: { path: { id: messageId } } }),
        );
        if (stopped) return;
        setStatus(m.status);
        if (!FINAL.has(m.status)) timer = setTimeout(() => void follow(), FOLLOW_MS);
      } catch (e) {
        if (!stopped) {
          setStatus(null);
          setError(
            e instanceof ApiError && e.status === 403
              ? 'Sent; this key cannot read messages (notifications:read) to follow it.'
              : (e as Error).message,
          );
        }
      }
    };
    void follow();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [messageId]);

  const send = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setSent(null);
    setStatus(null);
    try {
      const body = { to: to.replace(/[\s().-]/g, ''), variables };
      const answer = draft
        ? await unwrap(
            api.POST('/v1/templates/{key}/drafts/{id}/test', {
              params: { path: { key: templateKey, id: draft.id }, query },
              body,
            }),
          )
        : await unwrap(
            api.POST('/v1/templates/{key}/test', {
              params: { path: { key: templateKey }, query },
              body,
            }),
          );
      setSent(answer);
      setStatus(answer.messages[0]?.status ?? null);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="test-heading">
      <h2 id="test-heading">Test send</h2>
      <form class="filters" onSubmit={(e) => void send(e)}>
        <label>
          Phone number (E.164)
          <input
            type="tel"
            name="test-to"
            required
            autocomplete="off"
            placeholder="+14155550100"
            value={to}
            onInput={(e) => setTo(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {draft ? 'Send a test of the draft' : `Send a test of version ${version}`}
        </button>
      </form>
      <p class="hint">
        A real message with the sample values above, marked as a test in its timeline; it counts
        against the team&apos;s budget like any other.
      </p>
      <ErrorAlert error={error} />
      <div aria-live="polite">
        {sent && messageId && (
          <p data-testid="test-result">
            Test to {sent.messages[0].to}:{' '}
            <span class={`status status-${status ?? ''}`} data-testid="test-status">
              {status ?? 'sent'}
            </span>
            . <a href={`#/messages/${messageId}`}>Open its timeline</a>
          </p>
        )}
      </div>
    </section>
  );
}

/** Every version, a diff between any two, and roll back to any but the live one. */
function Versions({
  versions,
  templateKey,
  query,
  busy,
  onRestore,
}: {
  versions: Version[];
  templateKey: string;
  query: { owner_team?: string };
  busy: boolean;
  /** Null: this key may not roll back (a shared template, a team key). */
  onRestore: ((n: number) => void) | null;
}) {
  const latest = versions.length ? versions[versions.length - 1].version : 1;
  const [from, setFrom] = useState(String(Math.max(1, latest - 1)));
  const [to, setTo] = useState(String(latest));
  const [diff, setDiff] = useState<Diff | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setFrom(String(Math.max(1, latest - 1)));
    setTo(String(latest));
    setDiff(null);
  }, [latest]);

  const compare = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      setDiff(
        await unwrap(
          api.GET('/v1/templates/{key}/diff', {
            params: {
              path: { key: templateKey },
              query: { ...query, from: Number(from), to: Number(to) },
            },
          }),
        ),
      );
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <section aria-labelledby="versions-heading">
      <h2 id="versions-heading">Versions</h2>
      <div class="scroll" tabIndex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Made</th>
              <th scope="col">Body</th>
              <th scope="col">
                <span class="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {[...versions].reverse().map((v) => (
              <tr key={v.version} data-version={v.version}>
                <th scope="row">
                  {v.version}
                  {v.current ? ' (live)' : ''}
                </th>
                <td>{dateTime(v.created_at)}</td>
                <td class="body-cell">{v.body}</td>
                <td>
                  {!v.current && onRestore && (
                    <button
                      type="button"
                      class="secondary"
                      disabled={busy}
                      onClick={() => onRestore(v.version)}
                    >
                      Roll back to version {v.version}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {versions.length > 1 && (
        <form class="filters" onSubmit={(e) => void compare(e)}>
          {/* Named by the label alone: a wrapping label's name would run on into the options. */}
          {/* Named by the label alone: a wrapping label's name would run on into the options. */}
          <div class="field">
            <label for="diff-from">From version</label>
            <select
              id="diff-from"
              name="from"
              value={from}
              onChange={(e) => setFrom(e.currentTarget.value)}
            >
              {versions.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  {v.version}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="diff-to">To version</label>
            <select
              id="diff-to"
              name="to"
              value={to}
              onChange={(e) => setTo(e.currentTarget.value)}
            >
              {versions.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  {v.version}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Compare</button>
        </form>
      )}
      <ErrorAlert error={error} />
      {diff && (
        <div data-testid="diff">
          <p>
            Version {diff.from.version} to {diff.to.version}:{' '}
            {diff.changed.length ? `${diff.changed.join(', ')} changed.` : 'no change.'}
          </p>
          <p class="diff">
            {diff.body_diff.map((part, i) =>
              part.op === 'insert' ? (
                <ins key={i}>{part.text}</ins>
              ) : part.op === 'delete' ? (
                <del key={i}>{part.text}</del>
              ) : (
                <span key={i}>{part.text}</span>
              ),
            )}
          </p>
        </div>
      )}
    </section>
  );
}

import { ErrorAlert } from '../alerts';
import { useEffect, useState } from 'preact/hooks';
import { MESSAGE_CATEGORIES, type MessageCategory, type Schemas } from '@app/api-client';
import { api, unwrap } from '../api';
import { categoryOf, dateTime } from '../format';
import { characterName, type Fields, TemplateFields } from './template-preview';
import { TemplateDetail } from './template-detail';

type Template = Schemas['TemplateResponse'];

/** Where a template's page is: its key, and its team when it is not a shared one. */
export function templateHref(key: string, owner: string | null): string {
  return `#/templates/${encodeURIComponent(key)}${owner ? `?owner_team=${encodeURIComponent(owner)}` : ''}`;
}

/**
 * Templates, for whoever configures them: the list with search by key and category, a new
 * template with a live preview of what it sends and costs, and each template's page (drafts,
 * publish, test send, versions, diff and roll back).
 */
export function TemplatesPage({ route, admin }: { route: string; admin: boolean }) {
  const [path, search] = route.split('?');
  const params = new URLSearchParams(search ?? '');
  if (path === '/templates/new') return <NewTemplate />;
  const key = /^\/templates\/([^/]+)$/.exec(path)?.[1];
  if (key) {
    return (
      <TemplateDetail
        templateKey={decodeURIComponent(key)}
        admin={admin}
        owner={params.get('owner_team') || null}
      />
    );
  }
  return <TemplateList />;
}

function TemplateList() {
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [category, setCategory] = useState<MessageCategory | ''>('');

  useEffect(() => {
    // Every page of the list: a console user searches all of them, not the first 100.
    const load = async () => {
      const all: Template[] = [];
      let cursor: string | undefined;
      do {
        const page = await unwrap(
          api.GET('/v1/templates', { params: { query: { limit: '100', cursor } } }),
        );
        all.push(...page.data);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      setTemplates(all);
    };
    load().catch((e: Error) => setError(e.message));
  }, []);

  const needle = text.trim().toLowerCase();
  const shown = (templates ?? []).filter(
    (t) =>
      (needle === '' || t.key.toLowerCase().includes(needle)) &&
      (category === '' || t.category === category),
  );

  return (
    <main>
      <h1 tabIndex={-1}>Templates</h1>
      <p>
        <a href="#/templates/new" class="button">
          New template
        </a>
      </p>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Key contains
          <input
            type="search"
            name="key"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <label>
          Category
          <select
            name="category"
            value={category}
            onChange={(e) => setCategory(categoryOf(e.currentTarget.value))}
          >
            <option value="">Any</option>
            {MESSAGE_CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      </form>
      <ErrorAlert error={error} />
      {templates === null ? (
        <p class="loading">Loading…</p>
      ) : shown.length === 0 ? (
        <p>{templates.length === 0 ? 'No templates yet.' : 'No template matches.'}</p>
      ) : (
        <div class="scroll" tabIndex={0}>
          <table>
            <caption class="visually-hidden">
              {shown.length} of {templates.length} templates
            </caption>
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Team</th>
                <th scope="col">Category</th>
                <th scope="col">Version</th>
                <th scope="col">Cost</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((t) => (
                <tr key={`${t.owner_team ?? ''}/${t.key}`} data-template={t.key}>
                  <th scope="row">
                    <a href={templateHref(t.key, t.owner_team)}>{t.key}</a>
                  </th>
                  <td>{t.owner_team ?? 'shared'}</td>
                  <td>{t.category}</td>
                  <td>{t.version}</td>
                  <td>
                    {t.warnings.length === 0
                      ? 'GSM-7'
                      : `UCS-2: ${t.warnings
                          .flatMap((w) => w.characters)
                          .map(characterName)
                          .join(', ')}`}
                  </td>
                  <td>{dateTime(t.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

function NewTemplate() {
  const [key, setKey] = useState('');
  const [fields, setFields] = useState<Fields>({
    body: '',
    category: 'transactional',
    smartEncoding: false,
    description: '',
  });
  const [samples, setSamples] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await unwrap(
        api.POST('/v1/templates', {
          body: {
            key: key.trim(),
            body: fields.body,
            category: fields.category,
            smart_encoding: fields.smartEncoding,
            description: fields.description.trim() || null,
          },
        }),
      );
      location.hash = templateHref(created.key, created.owner_team);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main>
      <h1 tabIndex={-1}>New template</h1>
      <p>
        <a href="#/templates">Back to templates</a>
      </p>
      <form class="template-form" onSubmit={(e) => void create(e)}>
        <label>
          Key
          <input
            name="template-key"
            required
            aria-describedby="key-help"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
          />
        </label>
        <p class="hint" id="key-help">
          What callers name in POST /v1/notifications, e.g. order_shipped. Version 1 is live once
          created; later changes go through a draft.
        </p>
        <TemplateFields
          fields={fields}
          onChange={setFields}
          samples={samples}
          onSamples={setSamples}
        />
        <ErrorAlert error={error} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Creating…' : 'Create template'}
          </button>
        </div>
      </form>
    </main>
  );
}

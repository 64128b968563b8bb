import { useEffect, useState } from 'preact/hooks';
import { MESSAGE_CATEGORIES, type MessageCategory, type Schemas } from '@app/api-client';
import { api, unwrap } from '../api';
import { categoryOf } from '../format';

type Rendered = Schemas['RenderedTemplateResponse'];
type Warning = Schemas['CostWarningResponse'];

/** How long typing pauses before the preview is asked again (one request per pause, not per key). */
const PREVIEW_DELAY_MS = 250;

/** `order.id` = `A-1` → `{ order: { id: 'A-1' } }`: the shape a dotted placeholder reads. */
export function variablesOf(samples: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(samples)) {
    const parts = path.split('.');
    let at = out;
    for (const part of parts.slice(0, -1)) {
      const next = at[part];
      at = (typeof next === 'object' && next !== null ? next : (at[part] = {})) as typeof at;
    }
    at[parts[parts.length - 1]] = value;
  }
  return out;
}

/** A character as it reads and as its code point, so a look-alike (’ against ') can be told. */
export function characterName(c: string): string {
  const code = c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0') ?? '';
  return `${c} (U+${code})`;
}

const ask = (body: string, samples: Record<string, string>, smart: boolean) =>
  api.POST('/v1/templates/preview', {
    body: { body, variables: variablesOf(samples), smart_encoding: smart },
  });

/**
 * Renders as the service would. Rendering is strict (a variable without a value is an error), so
 * a variable not given a sample yet is shown as its own placeholder, {{name}}, the way the cost
 * lint of a saved template counts it: the preview works from the first keystroke, and the
 * variables it reports are the inputs to show.
 */
async function renderWithPlaceholders(
  body: string,
  samples: Record<string, string>,
  smart: boolean,
): Promise<Rendered> {
  const first = await ask(body, samples, smart);
  const missing = (first.error?.error.details as { missing?: unknown } | undefined)?.missing;
  if (first.error?.error.code !== 'missing_variables' || !Array.isArray(missing)) {
    return unwrap(Promise.resolve(first));
  }
  const filled = { ...samples };
  for (const name of missing as string[]) filled[name] = `{{${name}}}`;
  return unwrap(ask(body, filled, smart));
}

/**
 * The rendered text of an unsaved body, asked again each time the body, the sample values or the
 * smart-encoding switch change: what the service would send and what it would cost.
 */
export function useLivePreview(body: string, samples: Record<string, string>, smart: boolean) {
  const [preview, setPreview] = useState<Rendered | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify([body, samples, smart]);
  useEffect(() => {
    if (body.trim() === '') {
      setPreview(null);
      setError(null);
      return;
    }
    let stale = false;
    const timer = setTimeout(() => {
      renderWithPlaceholders(body, samples, smart)
        .then((answer) => {
          if (stale) return;
          setPreview(answer);
          setError(null);
        })
        .catch((e: Error) => {
          if (!stale) setError(e.message);
        });
    }, PREVIEW_DELAY_MS);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [key]);
  return { preview, error };
}

/** One input per variable the body uses; values the body no longer uses are kept, not shown. */
export function SampleVariables({
  names,
  samples,
  onChange,
}: {
  names: string[];
  samples: Record<string, string>;
  onChange: (samples: Record<string, string>) => void;
}) {
  if (names.length === 0) return <p class="hint">The body uses no variables.</p>;
  return (
    <fieldset class="samples">
      <legend>Sample values</legend>
      {names.map((name) => (
        <label key={name}>
          {name}
          <input
            name={`sample-${name}`}
            value={samples[name] ?? ''}
            onInput={(e) => onChange({ ...samples, [name]: e.currentTarget.value })}
          />
        </label>
      ))}
    </fieldset>
  );
}

/** What a forces_ucs2 warning costs, in words: each character, then the segments it takes. */
export function costInWords(warning: Warning): string {
  const names = warning.characters.map(characterName).join(', ');
  const verb = warning.characters.length === 1 ? 'forces' : 'force';
  const per = (n: number) => `${n} segment${n === 1 ? '' : 's'}`;
  const cost =
    warning.segments_now > warning.segments_without
      ? `${per(warning.segments_now)} per recipient instead of ${warning.segments_without} (${
          warning.segments_now - warning.segments_without
        } more)`
      : `still ${per(warning.segments_now)} per recipient at this length`;
  const smart =
    warning.replaceable.length > 0
      ? ` Smart encoding would replace ${warning.replaceable.join(' ')}.`
      : '';
  return `${names} ${verb} UCS-2 (70 characters a segment instead of 160): ${cost}.${smart}`;
}

function CostWarning({ warning }: { warning: Warning }) {
  return <li data-testid="cost-warning">{costInWords(warning)}</li>;
}

/** The preview's text and figures, the cost warnings and what smart encoding replaced. */
export function PreviewPanel({
  preview,
  error,
}: {
  preview: Rendered | null;
  error: string | null;
}) {
  return (
    <section class="preview" aria-labelledby="preview-heading" aria-live="polite">
      <h3 id="preview-heading">Preview</h3>
      {error ? (
        <p class="error" data-testid="preview-error">
          {error}
        </p>
      ) : !preview ? (
        <p class="hint">Type a body to see what it sends and costs.</p>
      ) : (
        <>
          <pre class="sms" data-testid="preview-text">
            {preview.text}
          </pre>
          <dl class="facts">
            <dt>Characters</dt>
            <dd data-testid="preview-characters">{preview.characters}</dd>
            <dt>Encoding</dt>
            <dd data-testid="preview-encoding">{preview.encoding}</dd>
            <dt>Segments</dt>
            <dd data-testid="preview-segments">{preview.segments}</dd>
            <dt>Credits per recipient</dt>
            <dd data-testid="preview-credits">{preview.credits_per_recipient}</dd>
            <dt>Variables used</dt>
            <dd>{preview.variables.length ? preview.variables.join(', ') : 'none'}</dd>
          </dl>
          {preview.warnings.length > 0 && (
            <div class="warning" role="note" aria-label="Cost warnings">
              <strong>Cost warning</strong>
              <ul>
                {preview.warnings.map((w) => (
                  <CostWarning key={w.code} warning={w} />
                ))}
              </ul>
            </div>
          )}
          {preview.smart_encoding && (
            <p data-testid="smart-replaced">
              {preview.replaced.length === 0
                ? 'Smart encoding: nothing to replace.'
                : `Smart encoding replaced ${preview.replaced
                    .map((r) => `${r.character} with ${r.replacement} (${r.count}×)`)
                    .join(', ')}.`}
            </p>
          )}
        </>
      )}
    </section>
  );
}

/** What the create and draft forms hold. */
export interface Fields {
  body: string;
  category: MessageCategory;
  smartEncoding: boolean;
  description: string;
}

/**
 * A body with its category and smart-encoding switch, the sample values and the live preview
 * beside it: the create form and the draft editor are this one form.
 */
export function TemplateFields({
  fields,
  onChange,
  samples,
  onSamples,
}: {
  fields: Fields;
  onChange: (fields: Fields) => void;
  samples: Record<string, string>;
  onSamples: (samples: Record<string, string>) => void;
}) {
  const { preview, error } = useLivePreview(fields.body, samples, fields.smartEncoding);
  return (
    <div class="editor">
      <div class="editor-fields">
        <label>
          Body
          <textarea
            name="body"
            rows={5}
            required
            value={fields.body}
            onInput={(e) => onChange({ ...fields, body: e.currentTarget.value })}
          />
        </label>
        <label>
          Category
          <select
            name="template-category"
            value={fields.category}
            onChange={(e) =>
              onChange({
                ...fields,
                category: categoryOf(e.currentTarget.value) || 'transactional',
              })
            }
          >
            {MESSAGE_CATEGORIES.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          Description
          <input
            name="description"
            value={fields.description}
            onInput={(e) => onChange({ ...fields, description: e.currentTarget.value })}
          />
        </label>
        <label class="inline">
          <input
            type="checkbox"
            name="smart_encoding"
            checked={fields.smartEncoding}
            onChange={(e) => onChange({ ...fields, smartEncoding: e.currentTarget.checked })}
          />{' '}
          Smart encoding: replace look-alikes (’ “ ” – — … no-break spaces) with GSM-7 characters
        </label>
        <SampleVariables names={preview?.variables ?? []} samples={samples} onChange={onSamples} />
      </div>
      <PreviewPanel preview={preview} error={error} />
    </div>
  );
}

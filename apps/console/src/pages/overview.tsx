import { ErrorAlert } from '../alerts';
import { useEffect, useState } from 'preact/hooks';
import type { operations, Schemas } from '@app/api-client';
import { CategoryPicker } from '../category-picker';
import { api, hoursAgo, query, unwrap } from '../api';
import { type Bucket, DeliveryChart } from '../chart';
import { categoryOf, count, percent, seconds } from '../format';

const WINDOWS = {
  '24h': { label: 'Last 24 hours, by hour', hours: 24, group: 'hour' },
  '7d': { label: 'Last 7 days, by day', hours: 7 * 24, group: 'day' },
  '30d': { label: 'Last 30 days, by day', hours: 30 * 24, group: 'day' },
} as const;
type WindowName = keyof typeof WINDOWS;
type ReportQuery = NonNullable<operations['getDeliveryReport']['parameters']['query']>;

export function OverviewPage() {
  const [windowName, setWindowName] = useState<WindowName>('24h');
  const [team, setTeam] = useState('');
  const [template, setTemplate] = useState('');
  const [category, setCategory] = useState(categoryOf(null));
  const [applied, setApplied] = useState({ windowName, team, template, category, at: Date.now() });
  const [report, setReport] = useState<Schemas['DeliveryReport'] | null>(null);
  const [byCategory, setByCategory] = useState<Schemas['DeliveryReport'] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const window = WINDOWS[applied.windowName];
  const filters: ReportQuery = {
    since: hoursAgo(window.hours, applied.at),
    until: new Date(applied.at).toISOString(),
    group_by: window.group,
    team: applied.team || undefined,
    template: applied.template || undefined,
    category: applied.category || undefined,
  };

  useEffect(() => {
    setError(null);
    // The operation answers JSON or, with format=csv, text: these calls ask for JSON.
    const json = (answer: Schemas['DeliveryReport'] | string) =>
      typeof answer === 'string' ? null : answer;
    unwrap(api.GET('/v1/reports/delivery', { params: { query: filters } }))
      .then((answer) => setReport(json(answer)))
      .catch((e: Error) => setError(e.message));
    // The same window and filters once more, a row per category: at most three rows.
    unwrap(
      api.GET('/v1/reports/delivery', { params: { query: { ...filters, group_by: 'category' } } }),
    )
      .then((answer) => setByCategory(json(answer)))
      .catch(() => setByCategory(null));
    // The same filters, whatever the object: ask again only when one of them changes.
  }, [query(filters)]);

  const exportCsv = async () => {
    const csv = await unwrap(
      api.GET('/v1/reports/delivery', {
        params: { query: { ...filters, format: 'csv' } },
        parseAs: 'text',
      }),
    );
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    link.download = `delivery-${window.group}-${new Date(applied.at).toISOString().slice(0, 16)}.csv`;
    link.click();
    URL.revokeObjectURL(link.href);
  };

  const buckets: (Bucket & { suppressed: number })[] = (report?.rows ?? []).map((row) => {
    const label = row.hour ?? row.day ?? '';
    const at = Date.parse(row.hour ?? `${row.day}T00:00:00Z`) / 1000;
    return {
      label,
      at,
      delivered: row.delivered,
      failed: row.failed,
      expired: row.expired,
      suppressed: row.suppressed,
      deliveryRate: row.delivery_rate,
    };
  });
  const t = report?.totals;

  return (
    <main>
      <h1 tabIndex={-1}>Overview</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ windowName, team, template, category, at: Date.now() });
        }}
      >
        <label>
          Window
          <select
            value={windowName}
            onChange={(e) => setWindowName(e.currentTarget.value as WindowName)}
          >
            {Object.entries(WINDOWS).map(([name, w]) => (
              <option key={name} value={name}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Team
          <input
            value={team}
            placeholder="all my key may see"
            onInput={(e) => setTeam(e.currentTarget.value.trim())}
          />
        </label>
        <label>
          Template
          <input
            value={template}
            placeholder="all"
            onInput={(e) => setTemplate(e.currentTarget.value.trim())}
          />
        </label>
        <CategoryPicker value={category} every="all" onChange={setCategory} />
        <button type="submit">Show</button>
        <button type="button" class="secondary" onClick={() => void exportCsv()} disabled={!report}>
          Export CSV
        </button>
      </form>
      <ErrorAlert error={error} />
      {report && t && (
        <>
          <p class="hint">
            Messages submitted from {report.since.slice(0, 16).replace('T', ' ')} to{' '}
            {report.until.slice(0, 16).replace('T', ' ')} UTC
            {report.team ? `, team ${report.team}` : ''}
            {report.template ? `, template ${report.template}` : ''}
            {report.category ? `, category ${report.category}` : ''}.
          </p>
          <dl class="tiles" aria-label="Totals">
            <div>
              <dt>Messages</dt>
              <dd data-testid="total">{count(t.total)}</dd>
            </div>
            <div>
              <dt>Delivered</dt>
              <dd data-testid="delivered">{count(t.delivered)}</dd>
            </div>
            <div>
              <dt>Failed</dt>
              <dd data-testid="failed">{count(t.failed)}</dd>
            </div>
            <div>
              <dt>Expired</dt>
              <dd>{count(t.expired)}</dd>
            </div>
            <div>
              <dt title="Stopped by the suppression list: never sent, not failures, not in the delivery rate">
                Suppressed
              </dt>
              <dd data-testid="suppressed">{count(t.suppressed)}</dd>
            </div>
            <div>
              <dt>Delivery rate</dt>
              <dd>{percent(t.delivery_rate)}</dd>
            </div>
            <div>
              <dt title="From hand-over to the provider until delivered">
                p50 / p95 at the provider
              </dt>
              <dd>
                {seconds(t.p50_handover_seconds)} / {seconds(t.p95_handover_seconds)}
              </dd>
            </div>
            <div>
              <dt title="From submission (includes schedule, rate budget and pauses)">
                p50 / p95 from submission
              </dt>
              <dd>
                {seconds(t.p50_delivery_seconds)} / {seconds(t.p95_delivery_seconds)}
              </dd>
            </div>
          </dl>
          <section aria-labelledby="chart-heading">
            <h2 id="chart-heading">Outcomes per {window.group}</h2>
            <DeliveryChart buckets={buckets} unit={window.group} />
            <details>
              <summary>The chart as a table</summary>
              <div class="scroll" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">{window.group === 'hour' ? 'Hour (UTC)' : 'Day (UTC)'}</th>
                      <th scope="col">Delivered</th>
                      <th scope="col">Failed</th>
                      <th scope="col">Expired</th>
                      <th scope="col">Suppressed</th>
                      <th scope="col">Delivery rate</th>
                    </tr>
                  </thead>
                  <tbody>
                    {buckets.map((b) => (
                      <tr key={b.label}>
                        <th scope="row">{b.label}</th>
                        <td>{b.delivered}</td>
                        <td>{b.failed}</td>
                        <td>{b.expired}</td>
                        <td>{b.suppressed}</td>
                        <td>{percent(b.deliveryRate)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </details>
          </section>
          {byCategory && (
            <section aria-labelledby="categories-heading">
              <h2 id="categories-heading">By category</h2>
              {byCategory.rows.length === 0 ? (
                <p>No messages in this window.</p>
              ) : (
                <div class="scroll" tabIndex={0}>
                  <table>
                    <thead>
                      <tr>
                        <th scope="col">Category</th>
                        <th scope="col">Messages</th>
                        <th scope="col">Delivered</th>
                        <th scope="col">Failed</th>
                        <th scope="col">Expired</th>
                        <th scope="col">Suppressed</th>
                        <th scope="col">Delivery rate</th>
                      </tr>
                    </thead>
                    <tbody>
                      {byCategory.rows.map((row) => (
                        <tr key={row.category}>
                          <th scope="row">
                            <a href={`#/messages?${query({ category: row.category })}`}>
                              {row.category}
                            </a>
                          </th>
                          <td>{count(row.total)}</td>
                          <td>{count(row.delivered)}</td>
                          <td>{count(row.failed)}</td>
                          <td>{count(row.expired)}</td>
                          <td>{count(row.suppressed)}</td>
                          <td>{percent(row.delivery_rate)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </section>
          )}
          <section aria-labelledby="errors-heading">
            <h2 id="errors-heading">Top error codes</h2>
            {report.failures.length === 0 ? (
              <p>No failed or expired messages in this window.</p>
            ) : (
              <div class="scroll" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Error code</th>
                      <th scope="col">Failed</th>
                      <th scope="col">Expired</th>
                      <th scope="col">
                        <span class="visually-hidden">Find</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {report.failures.map((f) => (
                      <tr key={f.error_code}>
                        <th scope="row">
                          <code>{f.error_code}</code>
                        </th>
                        <td>{f.failed}</td>
                        <td>{f.expired}</td>
                        <td>
                          <a
                            href={`#/messages?${query({ error_code: f.error_code === 'unknown' ? undefined : f.error_code, status: f.failed >= f.expired ? 'failed' : 'expired', category: report.category ?? undefined })}`}
                          >
                            See messages
                          </a>
                        </td>
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

import { ErrorAlert, Notice } from '../alerts';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Schemas } from '@app/api-client';
import { api, unwrap } from '../api';
import { count, dateTime, percent } from '../format';

type Team = Schemas['TeamView'];

/** How often the figures (backlog, share) are read again while the page is open. */
const REFRESH_MS = 5000;

/** What the edit form holds: text as typed, blank meaning the default (or no budget). */
interface Draft {
  weight: string;
  highPerMinute: string;
  maxBacklog: string;
  budget: string;
  hardStop: boolean;
}

function draftOf(team: Team): Draft {
  return {
    weight: String(team.weight),
    highPerMinute: team.high_per_minute_is_default ? '' : String(team.high_per_minute),
    maxBacklog: team.max_backlog_is_default ? '' : String(team.max_backlog),
    budget: team.monthly_credit_budget === null ? '' : String(team.monthly_credit_budget),
    hardStop: team.budget_hard_stop,
  };
}

/** Blank: null (the default, or no budget); else the whole number typed. */
function wholeOrNull(text: string): number | null {
  return text.trim() === '' ? null : Number(text.trim());
}

/**
 * Teams sharing the provider: each team's weight, allowance, backlog cap and budget, this month's
 * credits against the budget, its unsent messages by priority and its share of the rate now. An
 * admin sees and edits every team; any other key sees its own team.
 */
export function TeamsPage({ admin }: { admin: boolean }) {
  const [teams, setTeams] = useState<Team[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Team | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  const load = async () => {
    const answer = admin
      ? await unwrap(api.GET('/v1/teams'))
      : [await unwrap(api.GET('/v1/teams/{team}', { params: { path: { team: '@me' } } }))];
    setTeams(answer);
  };

  useEffect(() => {
    load().catch((e: Error) => setError(e.message));
    const timer = setInterval(() => {
      load().catch((e: Error) => setError(e.message));
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [admin]);

  const edit = (team: Team) => {
    setEditing(team);
    setDraft(draftOf(team));
    setSaveError(null);
    dialog.current?.showModal();
  };

  const save = async (event: Event) => {
    event.preventDefault();
    if (!editing || !draft) return;
    const {
      data,
      response,
      error: failure,
    } = await api.PUT('/v1/teams/{team}', {
      params: { path: { team: editing.team } },
      body: {
        weight: Number(draft.weight),
        high_per_minute: wholeOrNull(draft.highPerMinute),
        max_backlog: wholeOrNull(draft.maxBacklog),
        monthly_credit_budget: wholeOrNull(draft.budget),
        budget_hard_stop: draft.hardStop,
      },
    });
    if (!response.ok || !data) {
      setSaveError(failure?.error.message ?? `HTTP ${response.status}`);
      return;
    }
    dialog.current?.close();
    setError(null);
    setNotice(`Saved ${data.team}: weight ${data.weight}.`);
    setTeams((all) => all?.map((t) => (t.team === data.team ? data : t)) ?? [data]);
  };

  const set = (field: keyof Draft, value: string | boolean) =>
    setDraft((d) => (d ? { ...d, [field]: value } : d));

  return (
    <main class="teams">
      <h1 tabIndex={-1}>Teams</h1>
      <p class="hint">
        Teams share the provider&apos;s rate: while several have messages due at one priority, each
        gets send slots in proportion to its weight.
        {admin ? '' : ' This key sees its own team.'} Usage is this calendar month&apos;s (UTC)
        total; the figures refresh every {REFRESH_MS / 1000} s.
      </p>
      <Notice text={notice} />
      <ErrorAlert error={error} />
      {teams === null ? (
        <p class="loading">Loading…</p>
      ) : teams.length === 0 ? (
        <p>No teams yet: a team appears once it has an API key or a notification.</p>
      ) : (
        // Positioned: the hidden column heading is placed against this box, not the page, which
        // it would widen on a phone.
        <div class="scroll" tabIndex={0} style={{ position: 'relative' }}>
          <table>
            <caption class="visually-hidden">Teams</caption>
            <thead>
              <tr>
                <th scope="col">Team</th>
                <th scope="col">Weight</th>
                <th scope="col">Limits</th>
                <th scope="col">Budget this month</th>
                <th scope="col">Credits per day</th>
                <th scope="col">Backlog</th>
                <th scope="col">Share now</th>
                {admin && (
                  <th scope="col">
                    <span class="visually-hidden">Action</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {teams.map((team) => (
                <TeamRow key={team.team} team={team} admin={admin} onEdit={() => edit(team)} />
              ))}
            </tbody>
          </table>
        </div>
      )}

      <dialog
        ref={dialog}
        aria-labelledby="edit-heading"
        onClose={() => {
          setEditing(null);
          setDraft(null);
        }}
      >
        {editing && draft && (
          <form onSubmit={(e) => void save(e)}>
            <h2 id="edit-heading">Settings of {editing.team}</h2>
            <label>
              Weight (1–100)
              <input
                type="number"
                name="weight"
                required
                min={1}
                max={100}
                step={1}
                value={draft.weight}
                onInput={(e) => set('weight', e.currentTarget.value)}
              />
            </label>
            <label>
              High-priority allowance per minute
              <input
                type="number"
                name="high_per_minute"
                min={0}
                step={1}
                placeholder="default"
                aria-describedby="blank-help"
                value={draft.highPerMinute}
                onInput={(e) => set('highPerMinute', e.currentTarget.value)}
              />
            </label>
            <label>
              Backlog cap (unsent messages)
              <input
                type="number"
                name="max_backlog"
                min={0}
                step={1}
                placeholder="default"
                aria-describedby="blank-help"
                value={draft.maxBacklog}
                onInput={(e) => set('maxBacklog', e.currentTarget.value)}
              />
            </label>
            <label>
              Monthly credit budget
              <input
                type="number"
                name="monthly_credit_budget"
                min={0}
                step={1}
                placeholder="none"
                aria-describedby="blank-help"
                value={draft.budget}
                onInput={(e) => set('budget', e.currentTarget.value)}
              />
            </label>
            <label class="inline">
              <input
                type="checkbox"
                name="budget_hard_stop"
                checked={draft.hardStop}
                onChange={(e) => set('hardStop', e.currentTarget.checked)}
              />{' '}
              Hard stop: over budget, refuse new messages and hold waiting ones
            </label>
            <p class="hint" id="blank-help">
              Leave a limit blank for the default (budget blank: no budget).
            </p>
            <ErrorAlert error={saveError} />
            <div class="actions">
              <button type="submit">Save</button>
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

function TeamRow({ team, admin, onEdit }: { team: Team; admin: boolean; onEdit: () => void }) {
  const { usage, backlog } = team;
  const budget = team.monthly_credit_budget;
  return (
    <tr data-team={team.team}>
      <th scope="row">{team.team}</th>
      <td>{team.weight}</td>
      <td>
        {count(team.high_per_minute)} high / min
        {team.high_per_minute_is_default ? ' (default)' : ''}
        <br />
        cap {count(team.max_backlog)}
        {team.max_backlog_is_default ? ' (default)' : ''}
      </td>
      <td>
        {budget === null ? (
          <>
            No budget
            <br />
            <span class="hint">{count(usage.used_credits)} credits used</span>
          </>
        ) : (
          <>
            <label for={`usage-${team.team}`} class="inline">
              {count(usage.used_credits)} of {count(budget)} credits (
              {percent(usage.budget_used_ratio)})
            </label>
            <br />
            <meter
              id={`usage-${team.team}`}
              min={0}
              max={Math.max(budget, 1)}
              low={budget * 0.8}
              high={budget * 0.8}
              optimum={0}
              value={Math.min(usage.used_credits, Math.max(budget, 1))}
            />
            <br />
            <span class="hint">
              {count(usage.reserved_credits)} reserved
              {team.budget_hard_stop ? ', hard stop' : ''}
            </span>
          </>
        )}
      </td>
      <td>
        <UsageChart team={team.team} month={usage.month} days={usage.days} />
      </td>
      <td>
        <span data-testid="backlog">
          {count(backlog.high)} high, {count(backlog.normal)} normal, {count(backlog.low)} low
        </span>
      </td>
      <td>
        <span data-testid="share">{percent(team.current_share)}</span>
        <br />
        <span class="hint">{count(team.handed_over_last_60s)} sent in 60 s</span>
      </td>
      {admin && (
        <td>
          <button
            type="button"
            class="secondary"
            aria-label={`Edit ${team.team}`}
            title={team.updated_at ? `Last changed ${dateTime(team.updated_at)}` : undefined}
            onClick={onEdit}
          >
            Edit
          </button>
        </td>
      )}
    </tr>
  );
}

/**
 * The month's credits per UTC day as small bars: one per day of the month, empty where nothing
 * was sent. An image for screen readers, described by its figures in words.
 */
function UsageChart({
  team,
  month,
  days,
}: {
  team: string;
  month: string;
  days: Team['usage']['days'];
}) {
  const [year, monthNumber] = month.split('-').map(Number);
  const length = new Date(Date.UTC(year, monthNumber, 0)).getUTCDate();
  const byDay = new Map(days.map((d) => [Number(d.day.slice(8, 10)), d.used_credits]));
  const peak = Math.max(1, ...days.map((d) => d.used_credits));
  const width = length * 4;
  const height = 32;
  const described =
    days.length === 0
      ? `No credits used in ${month} yet`
      : `Credits used per day in ${month}: ${days
          .map((d) => `${Number(d.day.slice(8, 10))}: ${count(d.used_credits)}`)
          .join(', ')}`;
  return (
    <svg
      class="usage-chart"
      role="img"
      aria-label={described}
      data-testid={`usage-chart-${team}`}
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
    >
      <title>{described}</title>
      {Array.from({ length }, (_, i) => {
        const used = byDay.get(i + 1) ?? 0;
        const h = used === 0 ? 0 : Math.max(1, Math.round((used / peak) * height));
        return <rect key={i} x={i * 4} y={height - h} width={3} height={h} fill="#0550ae" />;
      })}
    </svg>
  );
}

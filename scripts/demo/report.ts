/** Formatting of the demo's results: plain text, readable in a terminal or a CI log. */
import type { MessageStatus } from '../../apps/notification-service/src/delivery-status/message-status';

export interface MessageView {
  id: string;
  to: string;
  status: MessageStatus;
  provider_message_id: string | null;
  error: { code: string; message: string } | null;
  attempts: number;
  submitted_at: string;
  queued_at: string | null;
  sent_at: string | null;
  delivered_at: string | null;
  updated_at: string;
}

/** What the demo expects of one recipient, and why. */
export interface Expectation {
  to: string;
  status: 'delivered' | 'failed';
  errorCode: string | null;
  why: string;
}

export interface Row {
  kind: 'now' | 'scheduled';
  message: MessageView;
  expected: Expectation;
}

export function meetsExpectation(row: Row): boolean {
  return (
    row.message.status === row.expected.status &&
    (row.message.error?.code ?? null) === row.expected.errorCode
  );
}

/** A left-aligned text table; the header underlined with dashes. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function messageTable(rows: Row[]): string[] {
  return table(
    [
      '',
      'to',
      'kind',
      'status',
      'expected',
      'provider id',
      'attempts',
      'error',
      'final after',
      'note',
    ],
    rows.map((row) => {
      const { message, expected } = row;
      return [
        meetsExpectation(row) ? 'ok' : 'FAIL',
        message.to,
        row.kind,
        message.status,
        expected.errorCode ? `${expected.status} (${expected.errorCode})` : expected.status,
        message.provider_message_id ?? '-',
        String(message.attempts),
        message.error?.code ?? '-',
        seconds(Date.parse(message.updated_at) - Date.parse(message.submitted_at)),
        expected.why,
      ];
    }),
  );
}

export function countByStatus(messages: MessageView[]): string {
  const counts = new Map<string, number>();
  for (const message of messages) {
    counts.set(message.status, (counts.get(message.status) ?? 0) + 1);
  }
  return [...counts.entries()].map(([status, n]) => `${status} ${n}`).join(', ');
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function clockTime(iso: string): string {
  return new Date(iso).toISOString().slice(11, 23);
}

/** The last lines of a log, shortened: service logs are long JSON lines. */
export function tailOf(text: string, lines: number, width = 300): string[] {
  const kept = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(-lines)
    .map((line) => (line.length > width ? `${line.slice(0, width)}…` : line));
  return kept.length > 0 ? kept : ['(empty)'];
}

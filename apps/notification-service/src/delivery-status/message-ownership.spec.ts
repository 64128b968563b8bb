import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as ts from 'typescript';
import { MESSAGE_STATUSES } from './message-status';

const SRC = join(__dirname, '..');

/**
 * Files outside delivery-status/ that may still name the message tables in SQL, each with why.
 * A new entry is a decision to write down here, not a query to slip in elsewhere.
 */
const TABLE_EXCEPTIONS: Record<string, string> = {
  'database/migrations/': 'the schema itself: tables, indexes and triggers as they were created',
  'reports/reports.repository.ts':
    "the delivery report's aggregate (GROUP BY over messages joined with notifications); its status sets come from message-status.ts",
  'notifications/notifications.repository.ts':
    "the notifications list's filter 'has a message in this status': one EXISTS inside the keyset-paged notifications query (asking delivery-status for ids first would page in two steps)",
  'sending/worker-lease.repository.ts':
    'a lapsed lease is pruned only when no message still holds a claim of it (one NOT EXISTS)',
};

/**
 * Files outside message-status.ts that may quote a word that is also a message status inside
 * SQL, each with why.
 */
const STATUS_EXCEPTIONS: Record<string, string> = {
  'database/migrations/':
    'CHECK constraints, partial indexes and triggers are fixed at the time they were written',
  'callbacks/callbacks.repository.ts':
    "callback_deliveries' own states (pending, delivered, failed): another state machine that shares the words",
};

const TABLE_IN_SQL = /\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:ONLY\s+)?(messages|message_events)\b/i;
const STATUS_IN_SQL = new RegExp(`'(${MESSAGE_STATUSES.join('|')})'`);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(entry.name) && !/\.(db-)?spec\.ts$/.test(entry.name) ? [path] : [];
  });
}

/** The text of every string and template literal piece of a file: where SQL is written. */
function literals(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      found.push(node.text);
    }
    node.forEachChild(visit);
  };
  visit(source);
  return found;
}

const excepted = (file: string, exceptions: Record<string, string>) =>
  Object.keys(exceptions).some((prefix) => file.startsWith(prefix));

describe('delivery-status owns the message rows', () => {
  const files = sourceFiles(SRC).map((path) => ({
    file: relative(SRC, path).split('\\').join('/'),
    texts: literals(path),
  }));

  it('only delivery-status/ names messages or message_events in SQL (besides the listed exceptions)', () => {
    const offenders = files
      .filter(({ file }) => !file.startsWith('delivery-status/'))
      .filter(({ file }) => !excepted(file, TABLE_EXCEPTIONS))
      .filter(({ texts }) => texts.some((text) => TABLE_IN_SQL.test(text)))
      .map(({ file }) => file);
    expect(offenders).toEqual([]);
  });

  it('only message-status.ts writes a status into SQL (besides the listed exceptions)', () => {
    const offenders = files
      .filter(({ file }) => file !== 'delivery-status/message-status.ts')
      .filter(({ file }) => !excepted(file, STATUS_EXCEPTIONS))
      .flatMap(({ file, texts }) =>
        texts.filter((text) => STATUS_IN_SQL.test(text)).map((text) => `${file}: ${text.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('every exception still applies (a file that no longer needs one leaves the list)', () => {
    const stale = Object.keys(TABLE_EXCEPTIONS)
      .filter(
        (prefix) =>
          !files.some(
            ({ file, texts }) => file.startsWith(prefix) && texts.some((t) => TABLE_IN_SQL.test(t)),
          ),
      )
      .concat(
        Object.keys(STATUS_EXCEPTIONS).filter(
          (prefix) =>
            !files.some(
              ({ file, texts }) =>
                file.startsWith(prefix) && texts.some((t) => STATUS_IN_SQL.test(t)),
            ),
        ),
      );
    expect(stale).toEqual([]);
  });
});

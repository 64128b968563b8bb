import { type LoggedRequest, sandboxAdmin } from '../../tools/stack';

export type { LoggedRequest } from '../../tools/stack';

/**
 * Every run of limit + 1 requests that arrived within one second, each written out with arrival
 * times relative to its first request: empty when the limit held in every sliding second, and a
 * failure message that shows what crowded the second when it did not.
 */
export function crowdedSeconds(log: readonly LoggedRequest[], limit: number): string[] {
  const sorted = [...log].sort((a, b) => a.at - b.at);
  const crowded: string[] = [];
  for (let i = 0; i + limit < sorted.length; i += 1) {
    if (sorted[i + limit].at - sorted[i].at >= 1000) continue;
    const run = sorted.slice(i, i + limit + 1);
    crowded.push(
      `from request #${i}: ` +
        run
          .map((r) => `${r.method} ${r.path} +${(r.at - run[0].at).toFixed(1)}ms ${r.status}`)
          .join(', '),
    );
  }
  return crowded;
}

/** How many messages the provider took for each recipient: its accepted sends, by number. */
export async function sendsPerRecipient(sandboxAdminUrl: string): Promise<Map<string, number>> {
  const messages = await sandboxAdmin<{ to: string }[]>(sandboxAdminUrl, 'GET', '/messages');
  const counts = new Map<string, number>();
  for (const { to } of messages) counts.set(to, (counts.get(to) ?? 0) + 1);
  return counts;
}

/**
 * What the sandbox logged for our key since `since`, and its sends. Asserts what every backlog
 * test checks at the provider: `expected` sends, no 429, never more than `limit` in any sliding
 * second.
 */
export async function expectLimitKept(
  sandboxAdminUrl: string,
  { since, key, expected, limit }: { since: number; key: string; expected: number; limit: number },
): Promise<{ log: LoggedRequest[]; sends: LoggedRequest[] }> {
  const log = await sandboxAdmin<LoggedRequest[]>(
    sandboxAdminUrl,
    'GET',
    `/requests?since=${since}&key=${key}`,
  );
  const sends = log.filter((r) => r.method === 'POST' && r.path === '/v1/messages');
  expect(sends).toHaveLength(expected);
  expect(log.filter((r) => r.status === 429)).toEqual([]);
  expect(crowdedSeconds(log, limit)).toEqual([]);
  return { log, sends };
}

import {
  callApi,
  connectRedis,
  freePort,
  type RedisClient,
  spawnService,
  type ServiceProcess,
  stackKeyPrefix,
  waitFor,
} from '../../tools/stack';
import { ADMIN_KEY, createTemplate, SANDBOX_KEY, startHarness, waitForFinal } from './harness';
import { REDIS_URL } from './test-env';

export type CrashMode =
  /** One `APP_ROLE=all` instance, killed and started again on the same address. */
  | 'restart-all'
  /** Two `APP_ROLE=worker` instances; one is killed and the other carries on alone. */
  | 'worker-of-two';

export interface CrashOutcome {
  total: number;
  delivered: number;
  /** Recipients the provider never received. */
  lost: number;
  /** Copies beyond the first that the provider received. */
  duplicates: number;
  /** Claims the killed process held at the kill: provider calls it may have had in flight. */
  inFlightAtKill: number;
  /** Messages the killed process held (claimed, or their job taken but not yet claimed). */
  stranded: number;
  /** From the kill to the provider receiving the last stranded message again. */
  lastStrandedSentMs: number;
}

interface SandboxMessage {
  to: string;
  created_at: string;
}

const numbers = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `+1415556${String(from + i).padStart(4, '0')}`);

/**
 * `kill -9` of a sending instance in the middle of a backlog, as the delivery-core issue asks:
 * the enterprise plan (50/s) and a provider taking 200 ms per call, so that dozens of calls are
 * in flight when the process dies. Shared by the crash e2e test and its benchmark.
 */
export async function crashMidBacklog(mode: CrashMode, count = 200): Promise<CrashOutcome> {
  // One request per message, so that the calls in flight at the kill are many single ones (a
  // kill in the middle of batches is test/resilience.e2e-spec.ts's).
  const plan = { SMS_PROVIDER_PLAN: 'enterprise', LOG_LEVEL: 'error', SEND_BATCH_MAX: '1' };
  const api = await startHarness({
    env: { APP_ROLE: 'api', ...plan },
    sandbox: { apiKeys: `${SANDBOX_KEY}:enterprise:1000000`, latencyMs: 200 },
  });
  const processes: ServiceProcess[] = [];
  let redis: RedisClient | undefined;
  try {
    redis = await connectRedis(REDIS_URL);
    await createTemplate(api, 'otp', 'Your code is {{code}}');
    const spawn = async (role: string, port: number) => {
      const proc = await spawnService({ ...api.env, ...plan, APP_ROLE: role, PORT: String(port) });
      processes.push(proc);
      return proc;
    };

    const victimPort = await freePort();
    const victim = await spawn(mode === 'restart-all' ? 'all' : 'worker', victimPort);
    if (mode === 'worker-of-two') await spawn('worker', await freePort());
    const victimLease = await waitFor(
      async () =>
        (
          await api.sql<{ id: string }>(`SELECT id FROM worker_leases WHERE pid = $1`, [
            victim.child.pid,
          ])
        )[0],
      { what: "the victim's lease" },
    );

    const recipients = numbers(0, count);
    const intake = mode === 'restart-all' ? victim.url : api.url;
    const res = await callApi<{ id: string }>(intake, 'POST', '/v1/notifications', {
      key: ADMIN_KEY,
      body: { template: 'otp', to: recipients, variables: { code: '123456' } },
    });
    if (res.status !== 202) throw new Error(`intake answered ${res.status}: ${res.text}`);

    // Mid-backlog, with the victim's calls in flight.
    await waitFor(
      async () => {
        const [row] = await api.sql<{ handed: number; claimed: number }>(
          `SELECT count(*) FILTER (WHERE provider_message_id IS NOT NULL)::int AS handed,
                  count(*) FILTER (WHERE claim_owner = $1)::int AS claimed FROM messages`,
          [victimLease.id],
        );
        return row.handed >= count * 0.3 && row.claimed > 0;
      },
      { intervalMs: 10, what: 'the backlog to be under way' },
    );
    await victim.kill('SIGKILL');
    const killedAt = Date.now();

    const claimed = await api.sql<{ id: string }>(
      `SELECT id FROM messages WHERE claim_owner = $1`,
      [victimLease.id],
    );
    // Jobs Bull handed to the victim that it had not claimed yet are stranded too.
    const active = await redis.lrange(`${stackKeyPrefix(api.queuePrefix)}:sms-send:active`, 0, -1);
    const unclaimed = await api.sql<{ id: string }>(
      `SELECT id FROM messages WHERE id = ANY($1::uuid[]) AND claimed_at IS NULL AND provider_message_id IS NULL`,
      [active.map((jobId) => jobId.split('.')[0])],
    );
    const strandedIds = [...new Set([...claimed, ...unclaimed].map((r) => r.id))];

    if (mode === 'restart-all') await spawn('all', victimPort);

    const final = await waitForFinal(api, res.body.id, 120_000);
    const sent: SandboxMessage[] = await api.sandboxAdmin('GET', `/messages?key=${SANDBOX_KEY}`);
    const copies = new Map<string, number[]>();
    for (const m of sent) copies.set(m.to, [...(copies.get(m.to) ?? []), Date.parse(m.created_at)]);
    const strandedTo = await api.sql<{ recipient: string }>(
      `SELECT recipient FROM messages WHERE id = ANY($1::uuid[])`,
      [strandedIds],
    );
    const lastSent = Math.max(
      killedAt,
      ...strandedTo.map(({ recipient }) => Math.max(...(copies.get(recipient) ?? [Infinity]))),
    );
    return {
      total: count,
      delivered: final.messages.filter((m: { status: string }) => m.status === 'delivered').length,
      lost: recipients.filter((to) => !copies.has(to)).length,
      duplicates: recipients.reduce(
        (n, to) => n + Math.max(0, (copies.get(to)?.length ?? 0) - 1),
        0,
      ),
      inFlightAtKill: claimed.length,
      stranded: strandedIds.length,
      lastStrandedSentMs: lastSent - killedAt,
    };
  } finally {
    redis?.disconnect();
    await Promise.all(processes.map((p) => p.kill('SIGTERM')));
    await api.close();
  }
}

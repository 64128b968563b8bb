import { randomBytes } from 'node:crypto';
import { ParkedEventsRepository } from '../../apps/notification-service/src/delivery-status/parked-events.repository';
import type { ParkedPayload } from '../../apps/notification-service/src/delivery-status/provider-status';
import { cloneTemplateDatabase, type ScratchDatabase } from './scratch-database';

/**
 * Provider news that beat our record of the message: kept in arrival order until the message's
 * provider id is known, then handed over for applying; what is never claimed is pruned.
 */
describe(ParkedEventsRepository.name, () => {
  let scratch: ScratchDatabase;
  let parked: ParkedEventsRepository;

  beforeAll(async () => {
    scratch = await cloneTemplateDatabase('park');
    parked = new ParkedEventsRepository(scratch.db);
  });
  afterAll(() => scratch?.drop());
  beforeEach(async () => {
    await scratch.db.query(`DELETE FROM pending_provider_events`);
    await scratch.db.query(`DELETE FROM notifications`);
  });

  const providerId = () => `msg_${randomBytes(6).toString('hex')}`;
  const news = (id: string, status: ParkedPayload['status']): ParkedPayload => ({
    message_id: id,
    status,
    timestamp: '2026-06-01T12:00:00.000Z',
    sent_at: null,
    delivered_at: status === 'delivered' ? '2026-06-01T12:00:00.000Z' : null,
    error: null,
  });

  /** The provider id becomes known: the message it names is recorded. */
  async function recordMessage(providerMessageId: string): Promise<void> {
    const [n] = await scratch.db.query<{ id: string }[]>(
      `INSERT INTO notifications (team, template_key, template_version, priority, recipient_count)
       VALUES ('alpha', 'tpl', 1, 'normal', 1) RETURNING id`,
    );
    await scratch.db.query(
      `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
                             status, priority, provider_message_id)
       VALUES ($1, '+14155550100', 'x', 1, 'GSM-7', 1, 'queued', 2, $2)`,
      [n.id, providerMessageId],
    );
  }

  it("keeps a provider id's events whole and in arrival order, apart from other ids'", async () => {
    const mine = providerId();
    await parked.park(news(mine, 'sent'));
    await parked.park(news(providerId(), 'sent'));
    await parked.park(news(mine, 'delivered'));
    const found = await parked.findParkedFor(mine);
    expect(found.map((e) => e.payload)).toEqual([news(mine, 'sent'), news(mine, 'delivered')]);
    expect(await parked.findParkedFor(providerId())).toEqual([]);
    expect(await parked.count()).toBe(3);
  });

  it('hands over only events whose message is now known, oldest first, up to the limit', async () => {
    const [known, later, unknown] = [providerId(), providerId(), providerId()];
    await parked.park(news(known, 'sent'));
    await parked.park(news(unknown, 'sent'));
    await parked.park(news(later, 'sent'));
    await parked.park(news(known, 'delivered'));
    expect(await parked.findAdoptable(10)).toEqual([]);

    await recordMessage(known);
    await recordMessage(later);
    const adoptable = await parked.findAdoptable(10);
    expect(adoptable.map((e) => e.payload)).toEqual([
      news(known, 'sent'),
      news(later, 'sent'),
      news(known, 'delivered'),
    ]);
    expect((await parked.findAdoptable(2)).map((e) => e.id)).toEqual(
      adoptable.slice(0, 2).map((e) => e.id),
    );
  });

  it('deletes exactly the events it is given, and nothing for an empty list', async () => {
    const id = providerId();
    for (const status of ['sent', 'delivered', 'failed'] as const)
      await parked.park(news(id, status));
    const [first, second, third] = await parked.findParkedFor(id);
    await parked.deleteParked([]);
    expect(await parked.count()).toBe(3);
    await parked.deleteParked([first.id, third.id]);
    expect(await parked.findParkedFor(id)).toEqual([second]);
  });

  it('prunes events parked before a moment and says how many went', async () => {
    const [old, fresh] = [providerId(), providerId()];
    await parked.park(news(old, 'sent'));
    await parked.park(news(old, 'delivered'));
    await parked.park(news(fresh, 'sent'));
    await scratch.db.query(
      `UPDATE pending_provider_events SET received_at = now() - interval '2 days'
       WHERE provider_message_id = $1`,
      [old],
    );
    const dayAgo = new Date(Date.now() - 86_400_000);
    expect(await parked.pruneParked(dayAgo)).toBe(2);
    expect(await parked.pruneParked(dayAgo)).toBe(0);
    expect(await parked.findParkedFor(old)).toEqual([]);
    expect(await parked.findParkedFor(fresh)).toHaveLength(1);
  });
});

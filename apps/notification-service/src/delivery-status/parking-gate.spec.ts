import { ParkingGate } from './parking-gate';

/** A gate over an in-memory table, with a clock the test moves. */
function setUp(limits: { max: number; perSecond: number }, rowsAtStart = 0) {
  let now = 1_000_000;
  const table = { rows: rowsAtStart, counts: 0 };
  const gate = new ParkingGate(
    limits,
    () => {
      table.counts++;
      return Promise.resolve(table.rows);
    },
    () => now,
  );
  const park = () =>
    gate.park(() => {
      table.rows++;
      return Promise.resolve();
    });
  return { gate, table, park, advance: (ms: number) => (now += ms) };
}

describe(ParkingGate.name, () => {
  it('parks a burst of one second’s worth, then refuses for the rate until time passes', async () => {
    const { park, advance } = setUp({ max: 1000, perSecond: 5 });
    const first = await Promise.all(Array.from({ length: 8 }, park));
    expect(first.filter((v) => v === 'parked')).toHaveLength(5);
    expect(first.filter((v) => v === 'rate')).toHaveLength(3);
    advance(400);
    expect(await park()).toBe('parked');
    expect(await park()).toBe('parked');
    expect(await park()).toBe('rate');
  });

  it('never holds more than the cap, counting the table at most once a second', async () => {
    const { park, table, advance } = setUp({ max: 10, perSecond: 1000 }, 7);
    const verdicts = await Promise.all(Array.from({ length: 20 }, park));
    expect(verdicts.filter((v) => v === 'parked')).toHaveLength(3);
    expect(verdicts.filter((v) => v === 'full')).toHaveLength(17);
    expect(table.rows).toBe(10);
    expect(table.counts).toBe(1);
    // Rows adopted or pruned meanwhile make room again, once the table is counted anew.
    table.rows = 4;
    expect(await park()).toBe('full');
    advance(1000);
    expect(await park()).toBe('parked');
    expect(table.counts).toBe(2);
  });

  it('counts inserts still running when it recounts, rather than parking past the cap', async () => {
    let now = 0;
    let rows = 0;
    const slow: (() => void)[] = [];
    const gate = new ParkingGate(
      { max: 3, perSecond: 1000 },
      () => Promise.resolve(rows),
      () => now,
    );
    const stuck = [0, 1, 2].map(() =>
      gate.park(() => new Promise<void>((resolve) => slow.push(resolve))),
    );
    while (slow.length < 3) await new Promise((resolve) => setImmediate(resolve));
    now += 1500;
    // Three inserts admitted and not committed: the count says 0, the gate knows better.
    expect(await gate.park(() => Promise.resolve(void rows++))).toBe('full');
    for (const resolve of slow) resolve();
    expect(await Promise.all(stuck)).toEqual(['parked', 'parked', 'parked']);
  });

  it('parks nothing with a cap or a rate of 0', async () => {
    expect(await setUp({ max: 0, perSecond: 10 }).park()).toBe('full');
    expect(await setUp({ max: 10, perSecond: 0 }).park()).toBe('rate');
  });
});

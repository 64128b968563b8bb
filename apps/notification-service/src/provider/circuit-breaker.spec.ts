import { CircuitBreaker, type CircuitSnapshot } from './circuit-breaker';

function breaker(maxOpenMs = 8000) {
  let now = 1_000_000;
  const changes: CircuitSnapshot[] = [];
  const circuit = new CircuitBreaker(
    { failureThreshold: 5, openMs: 1000, maxOpenMs, now: () => now },
    (snapshot) => changes.push(snapshot),
  );
  return {
    circuit,
    changes,
    advance: (ms: number) => (now += ms),
    at: () => now,
  };
}

function failTimes(circuit: CircuitBreaker, times: number, code = 'server_error'): void {
  for (let i = 0; i < times; i += 1) {
    const admission = circuit.admit();
    if (!admission) throw new Error('not admitted');
    circuit.failed(admission, code);
  }
}

describe(CircuitBreaker.name, () => {
  it('stays closed through four failures in a row, opens at the fifth', () => {
    const { circuit, changes } = breaker();
    failTimes(circuit, 4);
    expect(circuit.snapshot().state).toBe('closed');
    expect(circuit.admit()).toBe('call');
    circuit.failed('call', 'timeout');
    expect(circuit.snapshot()).toMatchObject({
      state: 'open',
      reason: 'provider_failing',
      lastError: 'timeout',
    });
    expect(circuit.admit()).toBeNull();
    expect(changes.map((c) => c.state)).toEqual(['open']);
  });

  it('an answer between failures starts the count again', () => {
    const { circuit } = breaker();
    failTimes(circuit, 4);
    circuit.answered(circuit.admit()!);
    failTimes(circuit, 4);
    expect(circuit.snapshot().state).toBe('closed');
  });

  it('after the open period lets exactly one probe through; its answer closes the circuit', () => {
    const { circuit, advance, changes } = breaker();
    failTimes(circuit, 5);
    expect(circuit.availableInMs()).toBe(1000);
    advance(999);
    expect(circuit.admit()).toBeNull();
    advance(1);
    expect(circuit.snapshot().state).toBe('half_open');
    expect(circuit.admit()).toBe('probe');
    // While the probe is out nobody else goes, and is told to come back a period later.
    expect(circuit.admit()).toBeNull();
    expect(circuit.availableInMs()).toBe(1000);
    circuit.answered('probe');
    expect(circuit.snapshot()).toMatchObject({ state: 'closed', reason: null, probeAt: null });
    expect(circuit.admit()).toBe('call');
    expect(changes.map((c) => c.state)).toEqual(['open', 'half_open', 'closed']);
  });

  it('a failed probe re-opens for twice as long, up to the maximum; the outage keeps its start', () => {
    const { circuit, advance, at } = breaker(3000);
    failTimes(circuit, 5);
    const outageBegan = at();
    const periods: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      const wait = circuit.availableInMs();
      periods.push(wait);
      advance(wait);
      circuit.failed(circuit.admit()!, 'server_error');
    }
    expect(periods).toEqual([1000, 2000, 3000, 3000]);
    expect(circuit.snapshot()).toMatchObject({ state: 'open', since: outageBegan });
    // Recovery resets the period: the next outage starts at 1 s again.
    advance(circuit.availableInMs());
    circuit.answered(circuit.admit()!);
    failTimes(circuit, 5);
    expect(circuit.availableInMs()).toBe(1000);
  });

  it('a probe that never went (no slot, lease lost) passes its turn to the next caller', () => {
    const { circuit, advance } = breaker();
    failTimes(circuit, 5);
    advance(1000);
    const probe = circuit.admit();
    expect(probe).toBe('probe');
    circuit.withdrawn(probe!);
    expect(circuit.admit()).toBe('probe');
  });

  it('a refusal of the account opens it at once for the given time, whatever the count', () => {
    const { circuit, advance } = breaker();
    circuit.refused(circuit.admit()!, 'insufficient_credits', 30_000);
    expect(circuit.snapshot()).toMatchObject({
      state: 'open',
      reason: 'insufficient_credits',
      lastError: 'insufficient_credits',
    });
    advance(29_999);
    expect(circuit.admit()).toBeNull();
    advance(1);
    expect(circuit.admit()).toBe('probe');
    // Still out of credits: refused again, open again.
    circuit.refused('probe', 'insufficient_credits', 30_000);
    expect(circuit.availableInMs()).toBe(30_000);
    // The account reports credits: open no longer.
    circuit.reset();
    expect(circuit.admit()).toBe('call');
  });
});

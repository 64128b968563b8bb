import {
  canTransition,
  isTerminal,
  MESSAGE_STATUSES,
  type MessageStatus,
  statusesBefore,
  UNSENT_STATUSES,
  WITH_PROVIDER_STATUSES,
} from './message-status';

describe(canTransition.name, () => {
  it.each<[MessageStatus, MessageStatus]>([
    ['scheduled', 'pending'],
    ['pending', 'queued'],
    ['queued', 'sent'],
    ['sent', 'delivered'],
    ['sent', 'failed'],
    ['sent', 'expired'],
    // Out of order from the provider: a final report may come before "sent".
    ['queued', 'delivered'],
    ['pending', 'expired'],
    ['scheduled', 'canceled'],
    ['pending', 'canceled'],
  ])('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each<[MessageStatus, MessageStatus]>([
    ['sent', 'queued'],
    ['delivered', 'sent'],
    ['queued', 'queued'],
    ['queued', 'canceled'],
    ['sent', 'canceled'],
    ['pending', 'scheduled'],
  ])('refuses %s → %s (backwards, sideways, or cancel after hand-over)', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it('never leaves a final state', () => {
    for (const from of MESSAGE_STATUSES.filter(isTerminal)) {
      for (const to of MESSAGE_STATUSES) expect(canTransition(from, to)).toBe(false);
    }
  });
});

describe(statusesBefore.name, () => {
  it('lists exactly the states a status may be reached from', () => {
    expect(statusesBefore('sent').sort()).toEqual(['pending', 'queued', 'scheduled']);
    expect(statusesBefore('canceled').sort()).toEqual(['pending', 'scheduled']);
    expect(statusesBefore('scheduled')).toEqual([]);
  });
});

describe('status groups', () => {
  it('splits the non-final states into not yet handed over and held by the provider', () => {
    expect(UNSENT_STATUSES).toEqual(['scheduled', 'pending']);
    expect(WITH_PROVIDER_STATUSES).toEqual(['queued', 'sent']);
    const nonFinal = MESSAGE_STATUSES.filter((s) => !isTerminal(s));
    expect([...UNSENT_STATUSES, ...WITH_PROVIDER_STATUSES]).toEqual(nonFinal);
  });
});

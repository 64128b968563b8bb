/**
 * Callback requests in flight per team, in this process. A team at its cap gets no more workers
 * until one of its requests ends: the other teams' callbacks keep the rest.
 */
export class TeamSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly perTeam: number) {}

  tryTake(team: string): boolean {
    const taken = this.inFlight.get(team) ?? 0;
    if (taken >= this.perTeam) return false;
    this.inFlight.set(team, taken + 1);
    return true;
  }

  release(team: string): void {
    const taken = this.inFlight.get(team) ?? 0;
    if (taken <= 1) this.inFlight.delete(team);
    else this.inFlight.set(team, taken - 1);
  }
}

import { TeamUsageRepository } from '../../apps/notification-service/src/teams/team-usage.repository';
import { cloneTemplateDatabase, type ScratchDatabase } from './scratch-database';

/** A team's credits per month: reservations against a hard-stop budget under concurrency. */
describe(TeamUsageRepository.name, () => {
  let scratch: ScratchDatabase;
  let usage: TeamUsageRepository;
  const month = '2026-12-01';

  beforeAll(async () => {
    scratch = await cloneTemplateDatabase('usage');
    usage = new TeamUsageRepository(scratch.db);
  });
  afterAll(() => scratch?.drop());
  beforeEach(async () => {
    await scratch.db.query(`DELETE FROM team_usage`);
    await scratch.db.query(`DELETE FROM teams`);
  });

  const reserved = async (team: string): Promise<number> => {
    const [row] = await scratch.db.query<{ reserved_credits: string }[]>(
      `SELECT reserved_credits FROM team_usage WHERE team = $1 AND month = $2`,
      [team, month],
    );
    return Number(row?.reserved_credits ?? 0);
  };

  it('lets exactly the reservations that fit a hard-stop budget through, however many race', async () => {
    for (let round = 0; round < 10; round += 1) {
      const team = `rush-${round}`;
      await scratch.db.query(
        `INSERT INTO teams (team, monthly_credit_budget, budget_hard_stop) VALUES ($1, 5, true)`,
        [team],
      );
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => usage.reserve(team, month, 1)),
      );
      expect(answers.filter((refusal) => refusal === null)).toHaveLength(5);
      expect(await reserved(team)).toBe(5);
      expect(answers.find((refusal) => refusal !== null)).toMatchObject({ budget: 5 });
    }
  });

  it('reserves without limit for a team without a hard stop', async () => {
    await scratch.db.query(
      `INSERT INTO teams (team, monthly_credit_budget, budget_hard_stop) VALUES ('soft', 2, false)`,
    );
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => usage.reserve('soft', month, 1)),
    );
    expect(answers.every((refusal) => refusal === null)).toBe(true);
    expect(await reserved('soft')).toBe(6);
  });

  it('counts used credits against the budget too', async () => {
    await scratch.db.query(
      `INSERT INTO teams (team, monthly_credit_budget, budget_hard_stop) VALUES ('spent', 5, true)`,
    );
    await usage.addUsed('spent', month, 5);
    expect(await usage.reserve('spent', month, 1)).toMatchObject({ budget: 5, used: 5 });
  });
});

import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScope } from '../auth/auth.decorators';
import type { Principal } from '../auth/scopes';
import { AT, KEY_ID } from '../common/openapi/examples';
import { Operation } from '../common/openapi/operation.decorator';
import { OWN_TEAM, TeamParams, TeamView, UpdateTeamDto } from './teams.dto';
import { MAX_TEAMS, TeamsService } from './teams.service';

const TEAM: TeamView = {
  team: 'checkout',
  weight: 3,
  high_per_minute: 600,
  high_per_minute_is_default: true,
  max_backlog: 100_000,
  max_backlog_is_default: true,
  monthly_credit_budget: 50_000,
  budget_hard_stop: false,
  usage: {
    month: '2026-12',
    reserved_credits: 1_250,
    used_credits: 41_200,
    budget_used_ratio: 0.824,
    days: [
      { day: '2026-12-01', used_credits: 8_100 },
      { day: '2026-12-02', used_credits: 12_900 },
      { day: '2026-12-03', used_credits: 20_200 },
    ],
  },
  backlog: { high: 0, normal: 1_840, low: 0 },
  current_share: 0.75,
  handed_over_last_60s: 450,
  updated_at: AT,
  updated_by_key: KEY_ID,
};

@ApiTags('teams')
@ApiBearerAuth()
@Controller('v1/teams')
export class TeamsController {
  constructor(private readonly teams: TeamsService) {}

  @Operation({
    id: 'listTeams',
    example: [
      TEAM,
      {
        ...TEAM,
        team: 'marketing',
        weight: 1,
        monthly_credit_budget: null,
        usage: {
          ...TEAM.usage,
          reserved_credits: 0,
          used_credits: 9_800,
          budget_used_ratio: null,
          days: [{ day: '2026-12-01', used_credits: 9_800 }],
        },
        backlog: { high: 0, normal: 20_000, low: 0 },
        current_share: 0.25,
        handed_over_last_60s: 150,
        updated_at: null,
        updated_by_key: null,
      },
    ],
  })
  @Get()
  @RequireScope('admin')
  @ApiOperation({
    summary: 'Every team with its share settings, budget, usage, backlog and share of the rate',
    description:
      'The teams with settings, with API keys or with notifications, alphabetically; at most ' +
      `${MAX_TEAMS.toLocaleString('en-US')} (the first by name). Admin keys only.`,
  })
  @ApiOkResponse({ type: TeamView, isArray: true })
  list(): Promise<TeamView[]> {
    return this.teams.list();
  }

  @Operation({
    id: 'getTeam',
    errors: { 404: ['team_not_found'] },
    example: TEAM,
  })
  @Get(':team')
  @ApiOperation({
    summary: 'One team: its settings, budget, usage, backlog and share of the rate',
    description:
      'Any key may read its own team; an admin key any team (one never set answers the ' +
      'defaults). Another team answers 404 team_not_found, as other teams’ resources do. ' +
      `${OWN_TEAM} names the key's own team (the console asks so: a key does not know its team).`,
  })
  @ApiOkResponse({ type: TeamView })
  get(@CurrentPrincipal() principal: Principal, @Param() params: TeamParams): Promise<TeamView> {
    return this.teams.get(principal, teamOf(principal, params));
  }

  @Operation({
    id: 'updateTeam',
    example: { ...TEAM, weight: 3, monthly_credit_budget: 50_000 },
  })
  @Put(':team')
  @RequireScope('admin')
  @ApiOperation({
    summary: 'Set a team’s weight, high-priority allowance, backlog cap and budget',
    description:
      'Each field given is set, each left out kept; null sets high_per_minute and max_backlog ' +
      'back to the default and removes the budget. In force on this instance at once, on the ' +
      'others within 2 seconds. Admin keys only.',
  })
  @ApiOkResponse({ type: TeamView })
  update(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TeamParams,
    @Body() dto: UpdateTeamDto,
  ): Promise<TeamView> {
    return this.teams.update(principal, teamOf(principal, params), {
      weight: dto.weight,
      highPerMinute: dto.high_per_minute,
      maxBacklog: dto.max_backlog,
      monthlyCreditBudget: dto.monthly_credit_budget,
      budgetHardStop: dto.budget_hard_stop,
    });
  }
}

function teamOf(principal: Principal, params: TeamParams): string {
  return params.team === OWN_TEAM ? principal.team : params.team;
}

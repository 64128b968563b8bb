import { Module } from '@nestjs/common';
import { DeliveryStatusModule } from '../delivery-status/delivery-status.module';
import { TeamBacklog } from './team-backlog';
import { TeamBudgets } from './team-budgets';
import { TeamSettings } from './team-settings';
import { TeamUsageRepository } from './team-usage.repository';
import { TeamsRepository } from './teams.repository';

/** The teams' settings as the dispatcher and intake read them, without the HTTP API. */
@Module({
  imports: [DeliveryStatusModule],
  providers: [TeamsRepository, TeamSettings, TeamBacklog, TeamUsageRepository, TeamBudgets],
  exports: [TeamsRepository, TeamSettings, TeamBacklog, TeamUsageRepository, TeamBudgets],
})
export class TeamsStoreModule {}

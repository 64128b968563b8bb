import { Module } from '@nestjs/common';
import { DeliveryStatusModule } from '../delivery-status/delivery-status.module';
import { TeamBacklog } from './team-backlog';
import { TeamSettings } from './team-settings';
import { TeamsRepository } from './teams.repository';

/** The teams' settings as the dispatcher and intake read them, without the HTTP API. */
@Module({
  imports: [DeliveryStatusModule],
  providers: [TeamsRepository, TeamSettings, TeamBacklog],
  exports: [TeamsRepository, TeamSettings, TeamBacklog],
})
export class TeamsStoreModule {}

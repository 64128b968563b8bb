import { Module } from '@nestjs/common';
import { DeliveryStatusModule } from '../delivery-status/delivery-status.module';
import { TeamsController } from './teams.controller';
import { TeamsService } from './teams.service';
import { TeamsStoreModule } from './teams-store.module';

/** Teams as an HTTP resource (the API role); the send path reads them through TeamsStoreModule. */
@Module({
  imports: [TeamsStoreModule, DeliveryStatusModule],
  controllers: [TeamsController],
  providers: [TeamsService],
})
export class TeamsModule {}

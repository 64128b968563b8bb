import { Module } from '@nestjs/common';
import { DeliveryStatusModule } from '../delivery-status/delivery-status.module';
import { ProviderModule } from '../provider';
import { ReconcileService } from './reconcile.service';

@Module({
  imports: [DeliveryStatusModule, ProviderModule],
  providers: [ReconcileService],
  exports: [ReconcileService],
})
export class ReconcileModule {}

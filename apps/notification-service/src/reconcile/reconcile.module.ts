import { Module } from '@nestjs/common';
import { NotificationsStoreModule } from '../notifications/notifications-store.module';
import { ProviderModule } from '../provider/provider.module';
import { ReconcileRepository } from './reconcile.repository';
import { ReconcileService } from './reconcile.service';

@Module({
  imports: [NotificationsStoreModule, ProviderModule],
  providers: [ReconcileRepository, ReconcileService],
  exports: [ReconcileService],
})
export class ReconcileModule {}

import { ApiKey } from '../auth/entities/api-key.entity';
import { IdempotencyRecord } from '../notifications/entities/idempotency-record.entity';
import { Notification } from '../notifications/entities/notification.entity';
import { TemplateDraft } from '../templates/entities/template-draft.entity';
import { TemplateVersion } from '../templates/entities/template-version.entity';
import { Template } from '../templates/entities/template.entity';
import { InitialSchema1764000000000 } from './migrations/1764000000000-initial-schema';
import { CallbackTrigger1764000000100 } from './migrations/1764000000100-callback-trigger';
import { CallbackRedelivery1764000000200 } from './migrations/1764000000200-callback-redelivery';
import { DeliveryCore1764000000300 } from './migrations/1764000000300-delivery-core';
import { TemplateOwner1764000000900 } from './migrations/1764000000900-template-owner';
import { MessageSearchResend1764000001100 } from './migrations/1764000001100-message-search-resend';
import { QueueState1764000001200 } from './migrations/1764000001200-queue-state';
import { TemplateNamespaces1764000001330 } from './migrations/1764000001330-template-namespaces';
import { RecipientProtection1764000001400 } from './migrations/1764000001400-recipient-protection';
import { TeamFairShare1764000001500 } from './migrations/1764000001500-team-fair-share';
import { ProviderAccounts1764000001600 } from './migrations/1764000001600-provider-accounts';
import { ProviderBatches1764000001700 } from './migrations/1764000001700-provider-batches';
import { TemplateDrafts1764000001800 } from './migrations/1764000001800-template-drafts';

export const ENTITIES = [
  ApiKey,
  Template,
  TemplateVersion,
  TemplateDraft,
  Notification,
  IdempotencyRecord,
];

export const MIGRATIONS = [
  InitialSchema1764000000000,
  CallbackTrigger1764000000100,
  CallbackRedelivery1764000000200,
  DeliveryCore1764000000300,
  TemplateOwner1764000000900,
  MessageSearchResend1764000001100,
  QueueState1764000001200,
  TemplateNamespaces1764000001330,
  RecipientProtection1764000001400,
  TeamFairShare1764000001500,
  ProviderAccounts1764000001600,
  ProviderBatches1764000001700,
  TemplateDrafts1764000001800,
];

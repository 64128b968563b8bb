export * from './helpers';
export * from './sms-provider.module-definition';
export * from './sms-provider.client';
export * from './sms-provider.module';

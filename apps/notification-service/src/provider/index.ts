// The provider port: the only way the service reaches the SMS provider. Everything else imports
// from here, never the provider library's client.
export { CallAbandonedError, ProviderGateway, type SendOptions } from './provider-gateway.service';
export { ProviderModule } from './provider.module';
export { SmsProviderError } from '@app/sms-provider';

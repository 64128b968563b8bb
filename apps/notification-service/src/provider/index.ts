// The provider port: the only way the service reaches the SMS provider. Everything else imports
// from here, never the provider library's client.
export {
  type AccountState,
  CallAbandonedError,
  type MessageRoute,
  ProviderGateway,
  ProviderUnavailableError,
  type SendOptions,
  type SendResult,
} from './provider-gateway.service';
export type { CircuitSnapshot, CircuitState, OpenReason } from './circuit-breaker';
export { CALL_WINDOW_MS, type CallCounts } from './provider-call-log';
export { ProviderModule } from './provider.module';
export { SmsProviderError } from '@app/sms-provider';

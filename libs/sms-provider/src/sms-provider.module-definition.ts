import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface SmsProviderModuleOptions {
  /** Base URL including the version prefix, e.g. `https://api.smsprovider.com/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …`; never logged nor put in errors. */
  apiKey: string;
  /** Deadline of one HTTP attempt, connect to last byte. Default 10000. */
  timeoutMs?: number;
  /** Extra attempts of an idempotent GET after a timeout, network or 5xx error. Default 2. */
  getRetries?: number;
  /** First backoff before a GET retry, doubled each time and jittered. Default 100. */
  retryBaseDelayMs?: number;
}

export const {
  ConfigurableModuleClass: SmsProviderConfigurableModule,
  MODULE_OPTIONS_TOKEN: SMS_PROVIDER_OPTIONS,
  OPTIONS_TYPE: SMS_PROVIDER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SMS_PROVIDER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SmsProviderModuleOptions>().setClassMethodName('forRoot').build();

/** `forRoot` options (the options themselves, plus Nest's module extras). */
export type SmsProviderModuleRootOptions = typeof SMS_PROVIDER_OPTIONS_TYPE;
/** `forRootAsync` options: `{ imports?, inject?, useFactory? | useClass? | useExisting? }`. */
export type SmsProviderModuleAsyncOptions = typeof SMS_PROVIDER_ASYNC_OPTIONS_TYPE;

import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { SmsProviderClient } from './sms-provider.client';
import { SmsProviderConfigurableModule } from './sms-provider.module-definition';

/**
 * `SmsProviderModule.forRoot({ baseUrl, apiKey })`, or `forRootAsync({ imports, inject,
 * useFactory })` to take the options from @nestjs/config.
 */
@Module({
  // register() gives this module its own axios instance: interceptors that other code installs on
  // the global axios default can neither see nor alter our authenticated requests.
  imports: [HttpModule.register({})],
  providers: [SmsProviderClient],
  exports: [SmsProviderClient],
})
export class SmsProviderModule extends SmsProviderConfigurableModule {}

import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { SmsProviderClient } from './sms-provider.client';
import { SmsProviderModule } from './sms-provider.module';
import { SMS_PROVIDER_OPTIONS } from './sms-provider.module-definition';

describe(SmsProviderModule.name, () => {
  it('forRoot provides the client and the options token', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [SmsProviderModule.forRoot({ baseUrl: 'http://127.0.0.1:4010/v1', apiKey: 'k_1' })],
    }).compile();
    expect(moduleRef.get(SmsProviderClient)).toBeInstanceOf(SmsProviderClient);
    expect(moduleRef.get(SMS_PROVIDER_OPTIONS)).toMatchObject({ apiKey: 'k_1' });
    await moduleRef.close();
  });

  it('forRootAsync takes its options from @nestjs/config', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsProviderModule.forRootAsync({
          imports: [
            ConfigModule.forRoot({
              ignoreEnvFile: true,
              ignoreEnvVars: true,
              load: [
                () => ({
                  SMS_PROVIDER_BASE_URL: 'http://127.0.0.1:4010/v1',
                  SMS_PROVIDER_API_KEY: 'k_2',
                }),
              ],
            }),
          ],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            baseUrl: config.getOrThrow<string>('SMS_PROVIDER_BASE_URL'),
            apiKey: config.getOrThrow<string>('SMS_PROVIDER_API_KEY'),
            timeoutMs: 500,
          }),
        }),
      ],
    }).compile();
    expect(moduleRef.get(SmsProviderClient)).toBeInstanceOf(SmsProviderClient);
    expect(moduleRef.get(SMS_PROVIDER_OPTIONS)).toMatchObject({ apiKey: 'k_2', timeoutMs: 500 });
    await moduleRef.close();
  });

  it('fails at boot with a clear message on bad options', async () => {
    await expect(
      Test.createTestingModule({
        imports: [SmsProviderModule.forRoot({ baseUrl: 'not a url', apiKey: 'k' })],
      }).compile(),
    ).rejects.toThrow(/baseUrl must be an absolute http\(s\) URL/);
  });
});

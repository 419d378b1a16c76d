import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { NovitaConfig } from '../../config/config.types';
import { HttpNovitaClient } from './http-novita-client';
import { NovitaClient } from './novita-client';
import { NovitaModule } from './novita.module';

describe(NovitaModule.name, () => {
  it('should bind the NovitaClient port to HttpNovitaClient built from the novita config namespace', async () => {
    const novita: NovitaConfig = {
      apiKey: 'sk_test',
      baseUrl: 'http://127.0.0.1:1/gpu-instance/openapi/v1',
      timeoutMs: 1000,
      maxRetries: 1,
      retryBaseDelayMs: 10,
      retryMaxDelayMs: 100,
      breakerThreshold: 5,
      breakerHalfOpenAfterMs: 1000,
      maxConcurrent: 4,
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ novita })] }),
        NovitaModule,
      ],
    }).compile();

    const client = moduleRef.get(NovitaClient);

    expect(client).toBeInstanceOf(HttpNovitaClient);
    expect(client.health()).toEqual({ circuit: 'closed', lastSuccessAt: null, lastError: null });
    await moduleRef.close();
  });
});

/**
 * A client program written only against the types openapi-typescript generates from /docs-json
 * (./api is generated next to this file by test/integration/contract/typed-client.spec.ts).
 * It must compile under --strict with no casts: if the document lies about a shape, this fails.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './api';

type ErrorEnvelope = components['schemas']['ErrorEnvelope'];
type InstanceStatus = components['schemas']['InstanceResponseDto']['status'];

export interface Outcome {
  createdId: string | null;
  createdPrice: number | null;
  listed: number;
  pageSize: number;
  missingCode: string | null;
  missingRequestId: string | null;
  startedOperation: string | null;
  statuses: InstanceStatus[];
}

function describeError(envelope: ErrorEnvelope): string {
  const fields = envelope.error.details?.fields;
  return `${envelope.error.code}: ${envelope.error.message} (request ${envelope.error.requestId})${fields ? ' fields' : ''}`;
}

export async function run(baseUrl: string, apiKey: string): Promise<Outcome> {
  const client = createClient<paths>({ baseUrl, headers: { 'X-API-Key': apiKey } });

  // Create with an Idempotency-Key; templateId may be a number.
  const created = await client.POST('/api/instances', {
    params: { header: { 'Idempotency-Key': 'typed-client-create-1', 'X-Request-ID': 'typed-client-1' } },
    body: {
      name: 'typed-client-1',
      productName: 'RTX 4090 24GB',
      templateId: 212,
      gpuNum: 1,
      rootfsSize: 60,
      billingMode: 'spot',
      ports: [{ port: 8080, type: 'http' }],
      envs: [{ key: 'MODE', value: 'typed' }],
      healthCheck: { path: '/', timeoutMs: 1000 },
    },
  });
  if (created.error) throw new Error(describeError(created.error));
  const createdId: string = created.data.instanceId;
  const createdPrice: number = created.data.price;

  // List with filters and pagination.
  const page = await client.GET('/api/instances', {
    params: { query: { name: 'typed-client', status: 'creating', limit: 10, offset: 0 } },
  });
  if (page.error) throw new Error(describeError(page.error));
  const statuses: InstanceStatus[] = page.data.instances.map((i) => i.status);
  const paged = await client.GET('/api/instances', { params: { query: { page: 1, pageSize: 5 } } });
  const pageSize: number = paged.data?.pageSize ?? 0;

  // A typed error envelope.
  const missing = await client.GET('/api/instances/{instanceId}', {
    params: { path: { instanceId: 'inst_00000000000000000000' } },
  });
  const missingCode: string | null = missing.error ? missing.error.error.code : null;
  const missingRequestId: string | null = missing.error ? missing.error.error.requestId : null;

  // Start by name (the body is typed; readiness options are optional).
  const started = await client.POST('/api/instances/start', {
    body: { instanceName: 'typed-client-1', healthCheck: { port: 8080 } },
  });
  const startedOperation: string | null = started.data ? started.data.operationId : null;

  return {
    createdId,
    createdPrice,
    listed: page.data.total,
    pageSize,
    missingCode,
    missingRequestId,
    startedOperation,
    statuses,
  };
}

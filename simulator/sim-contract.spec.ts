/**
 * Every response shape the simulator emits is checked against Novita's OpenAPI yaml with
 * openapi-backend. Where the yaml is demonstrably behind the live API (API-NOTES §6/§8), the
 * correction is applied explicitly below, and a test proves each one is actually needed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { OpenAPIBackend } from 'openapi-backend';
import { RunningSimulator, startSimulator } from './index';
import { createBody, simFetcher } from './sim-test-client';

// openapi-backend requires this ESM-only package at load time, which jest's CommonJS runtime cannot
// parse. Quick mode with an object definition never calls it (it dereferences with
// dereference-json-schema instead), so a stub that only passes the document through is enough.
jest.mock('@apidevtools/json-schema-ref-parser', () => ({
  __esModule: true,
  default: {
    parse: async (doc: unknown) => doc,
    resolve: async () => {
      throw new Error('not used in quick mode');
    },
    dereference: async () => {
      throw new Error('not used in quick mode');
    },
  },
}));

const repoRoot = path.resolve(__dirname, '..');
const yamlPath = path.resolve(repoRoot, 'simulator', 'novita-openapi', 'openapi.yaml');

type Definition = any;

/** Corrections to the yaml, each with its reason. Nothing else is patched. */
const YAML_CORRECTIONS: { reason: string; apply: (d: Definition) => void }[] = [
  {
    reason:
      'spotStatus is "" for non-spot instances live (API-NOTES §4.3, §6 #8; the SDK patched its models)',
    apply: (d) => d.components.schemas.InstanceInfo.properties.spotStatus.enum.push(''),
  },
  {
    reason: 'status "pending" is seen live right after create (API-NOTES §4.1, §6 #7)',
    apply: (d) => d.components.schemas.InstanceInfo.properties.status.enum.push('pending'),
  },
];

async function backend(corrected: boolean): Promise<OpenAPIBackend> {
  const definition = load(fs.readFileSync(yamlPath, 'utf8')) as Definition;
  if (corrected) for (const c of YAML_CORRECTIONS) c.apply(definition);
  // The yaml's only formats are Template.createTime "date-time" (live: a Unix-seconds string,
  // API-NOTES §3.9) and "password" (no constraint), so format checks are off rather than wrong.
  const api = new OpenAPIBackend({
    definition,
    quick: true,
    validate: true,
    ajvOpts: { validateFormats: false },
  });
  await api.init();
  return api;
}

describe('simulator responses match openapi.yaml', () => {
  let running: RunningSimulator;
  let api: OpenAPIBackend;
  let raw: OpenAPIBackend;
  let call: ReturnType<typeof simFetcher>;

  beforeAll(async () => {
    [api, raw] = await Promise.all([backend(true), backend(false)]);
  });
  beforeEach(async () => {
    running = await startSimulator({ manualClock: true, seed: 7 });
    call = simFetcher(running);
  });
  afterEach(() => running.close());

  /**
   * Validates against the operation's declared response for that status. openapi-backend passes
   * silently when no response is declared for a status, so that case fails here instead.
   */
  function expectValid(operationId: string, status: number, body: unknown, validator = api): void {
    const op = validator.getOperation(operationId);
    expect(op?.responses?.[String(status)]).toBeDefined();
    const result = validator.validateResponse(body, operationId, status);
    expect(result.errors ?? []).toEqual([]);
  }

  /** Error statuses the yaml does not declare per operation (400 not-found, 429, 5xx) use the shared ErrorResponse schema. */
  function expectValidError(body: unknown): void {
    expectValid('create_instance', 400, body);
    expect(body).toEqual({
      code: expect.any(Number),
      reason: expect.any(String),
      message: expect.any(String),
      metadata: {},
    });
  }

  async function anyProductId(): Promise<string> {
    const res = await call('GET', '/products?productName=RTX%204090');
    return res.body.data[0].id;
  }

  it('list_instances, including every status of a lifecycle and a spot instance', async () => {
    running.sim.seedInstances(3, { status: 'running' });
    running.sim.seedInstance({ status: 'exited', billingMode: 'spot', spotReclaimAt: running.sim.now() });
    running.sim.seedInstance({ status: 'creating' });
    running.sim.seedInstance({ status: 'migrating' });
    running.sim.seedInstance({ status: 'removing' });
    const res = await call('GET', '/gpu/instances?pageSize=50&pageNum=1');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(7);
    expectValid('list_instances', 200, res.body);
  });

  it('get_instance while creating and once running (endpoints filled in)', async () => {
    const { body } = await call('POST', '/gpu/instance/create', createBody(await anyProductId()));
    const creating = await call('GET', `/gpu/instance?instanceId=${body.id}`);
    expectValid('get_instance', 200, creating.body);
    running.sim.advance(60_000);
    const runningRes = await call('GET', `/gpu/instance?instanceId=${body.id}`);
    expect(runningRes.body.status).toBe('running');
    expect(runningRes.body.portMappings[0].endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/i\//);
    expectValid('get_instance', 200, runningRes.body);
  });

  it('create_instance returns only {id}', async () => {
    const res = await call('POST', '/gpu/instance/create', createBody(await anyProductId()));
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['id']);
    expectValid('create_instance', 200, res.body);
  });

  it('start and stop return {instanceId, state}, which the yaml\'s open "object" accepts', async () => {
    const inst = running.sim.seedInstance({ status: 'running' });
    const stop = await call('POST', '/gpu/instance/stop', { instanceId: inst.id });
    expect(stop.body).toEqual({ instanceId: inst.id, state: 'toStop' });
    expectValid('stop_instance', 200, stop.body);
    running.sim.advance(60_000);
    const start = await call('POST', '/gpu/instance/start', { instanceId: inst.id });
    expect(start.body).toEqual({ instanceId: inst.id, state: 'toStart' });
    expectValid('start_instance', 200, start.body);
  });

  it('restart, delete and migrate return {}', async () => {
    const a = running.sim.seedInstance({ status: 'running' });
    const b = running.sim.seedInstance({ status: 'exited' });
    const restart = await call('POST', '/gpu/instance/restart', { instanceId: a.id });
    expectValid('restart_instance', 200, restart.body);
    const migrate = await call('POST', '/gpu/instance/migrate', { instanceId: b.id });
    expect(migrate.body).toEqual({});
    expectValid('migrate_instance', 200, migrate.body);
    const del = await call('POST', '/gpu/instance/delete', { instanceId: a.id });
    expect(del.body).toEqual({});
    expectValid('delete_instance', 200, del.body);
  });

  it('list_gpu_products, list_clusters, get_template, list_repository_auths', async () => {
    const products = await call('GET', '/products');
    expect(products.body.data.length).toBeGreaterThan(10);
    expectValid('list_gpu_products', 200, products.body);
    const clusters = await call('GET', '/clusters');
    expectValid('list_clusters', 200, clusters.body);
    const template = await call('GET', '/template?templateId=212');
    expect(template.body.template.Id).toBe('212');
    expectValid('get_template', 200, template.body);
    const auths = await call('GET', '/repository/auths');
    expectValid('list_repository_auths', 200, auths.body);
  });

  it('list_jobs with running, successful and failed migration jobs', async () => {
    const [a, b] = running.sim.seedInstances(2, { status: 'exited' });
    await call('POST', '/gpu/instance/migrate', { instanceId: a.id });
    running.sim.failNextMigration(b.id);
    await call('POST', '/gpu/instance/migrate', { instanceId: b.id });
    expectValid('list_jobs', 200, (await call('GET', '/jobs')).body);
    running.sim.advance(60_000);
    const done = await call('GET', '/jobs?type=instanceMigrate');
    expect(done.body.jobs.map((j: any) => j.state.state).sort()).toEqual(['fail', 'success']);
    expectValid('list_jobs', 200, done.body);
  });

  it('error bodies: 401, 404 instance, 400 invalid state change, INSUFFICIENT_RESOURCE, TEMPLATE_NOT_FOUND', async () => {
    const unauth = await simFetcher(running, 'sk_wrong')('GET', '/gpu/instances');
    expect(unauth.status).toBe(401);
    expectValid('list_instances', 401, unauth.body);

    const missing = await call('GET', '/gpu/instance?instanceId=0123456789abcdef');
    expect(missing.status).toBe(404);
    expectValid('get_instance', 404, missing.body);
    expectValidError(missing.body);

    const inst = running.sim.seedInstance({ status: 'running' });
    const invalid = await call('POST', '/gpu/instance/start', { instanceId: inst.id });
    expect(invalid.status).toBe(400);
    expectValidError(invalid.body);

    running.sim.setCapacity('as-sgp-2', 'RTX 4090 24GB', 0);
    const noGpu = await call('POST', '/gpu/instance/create', createBody('rtx4090-24gb-as-sgp-2'));
    expect(noGpu.status).toBe(400);
    expectValid('create_instance', 400, noGpu.body);

    // get_template declares no 400, yet Novita answers a missing template with 400 (API-NOTES §6 #2).
    const noTemplate = await call('GET', '/template?templateId=999');
    expect(noTemplate.status).toBe(400);
    expectValidError(noTemplate.body);
  });

  it.each(YAML_CORRECTIONS.map((c, i) => [c.reason, i] as const))(
    'the uncorrected yaml rejects what this correction allows: %s',
    (_reason, i) => {
      const sample = running.sim.seedInstance({ status: 'running' });
      const body = i === 0 ? { ...sample, spotStatus: '' } : { ...sample, status: 'pending' };
      expect(raw.validateResponse(body, 'get_instance', 200).valid).toBe(false);
      expectValid('get_instance', 200, body);
    },
  );
});

import {
  flattenTemplatePorts,
  toCluster,
  toEpochMs,
  toGpuProduct,
  toNovitaInstance,
  toNovitaJob,
  toNumber,
  toRegistryAuth,
  toTemplate,
} from './novita-mappers';
import {
  toWireCreateRequest,
  toWireListInstancesQuery,
  toWireListJobsQuery,
  toWireListProductsQuery,
} from './novita-requests';
import { WireGpuProduct, WireInstance, WireJob, WireTemplate } from './novita-wire.types';

/** A get-instance body in the live shape: integers as strings, "" billing/spot, "0" reclaim time. */
const runningOnDemand: WireInstance = {
  id: '3560b7fec915bbf9',
  name: 'train-llama',
  clusterId: '5',
  clusterName: 'AS-SGP-02',
  status: 'running',
  imageUrl: 'docker.io/pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime',
  imageAuthId: '',
  command: 'python train.py',
  cpuNum: '16',
  memory: '62',
  gpuNum: '1',
  productId: 'prod-4090',
  productName: 'RTX 4090 24GB',
  rootfsSize: 60,
  portMappings: [
    { port: 8888, endpoint: 'https://3560b7fec915bbf9-8888.proxy.novita.example', type: 'http' },
    { port: '22' as unknown as number, endpoint: 'ssh.novita.example:31022', type: 'tcp' },
  ],
  volumeMounts: [{ type: 'local', size: '30', mountPath: '/data' }],
  statusError: { state: '', message: '' },
  envs: [
    { key: 'HF_TOKEN', value: 'x' },
    { key: 'EMPTY', value: null },
  ],
  kind: 'gpu',
  billingMode: '',
  endTime: '-1',
  spotStatus: '',
  spotReclaimTime: '0',
  jobs: [],
  createdAt: '1713162260',
  lastStartedAt: '1713162300',
  lastStoppedAt: '0',
};

describe('novita-mappers', () => {
  describe('toNumber', () => {
    it('should accept numbers and numeric strings and fall back otherwise', () => {
      expect(toNumber(4)).toBe(4);
      expect(toNumber(' 16 ')).toBe(16);
      expect(toNumber('0.5')).toBe(0.5);
      expect(toNumber('')).toBe(0);
      expect(toNumber('abc', -1)).toBe(-1);
      expect(toNumber(null, 7)).toBe(7);
      expect(toNumber(Number.NaN, 3)).toBe(3);
    });
  });

  describe('toEpochMs', () => {
    it('should turn unix-second strings and numbers into epoch ms', () => {
      expect(toEpochMs('1713162260')).toBe(1_713_162_260_000);
      expect(toEpochMs(1713162260)).toBe(1_713_162_260_000);
    });

    it('should treat "0", "", "-1" and missing as none', () => {
      for (const none of ['0', '', '-1', 0, -1, null, undefined]) expect(toEpochMs(none)).toBeNull();
    });

    it('should pass millisecond values through and parse ISO dates', () => {
      expect(toEpochMs('1713162260123')).toBe(1_713_162_260_123);
      expect(toEpochMs('2024-04-15T06:24:20Z')).toBe(Date.UTC(2024, 3, 15, 6, 24, 20));
      expect(toEpochMs('not a time')).toBeNull();
    });
  });

  describe('toNovitaInstance', () => {
    it('should map a live-shaped instance with string numbers and empty spot/billing values', () => {
      const i = toNovitaInstance(runningOnDemand);
      expect(i).toMatchObject({
        id: '3560b7fec915bbf9',
        name: 'train-llama',
        status: 'running',
        clusterId: '5',
        clusterName: 'AS-SGP-02',
        productId: 'prod-4090',
        productName: 'RTX 4090 24GB',
        cpuNum: 16,
        memoryGb: 62,
        gpuNum: 1,
        rootfsSize: 60,
        billingMode: '',
        spotStatus: '',
        spotReclaimTime: null,
        endTime: null,
        kind: 'gpu',
        command: 'python train.py',
        createdAt: 1_713_162_260_000,
        lastStartedAt: 1_713_162_300_000,
        jobs: [],
      });
      expect(i.imageAuthId).toBeUndefined();
      expect(i.lastStoppedAt).toBeUndefined();
      expect(i.statusError).toBeUndefined();
      expect(i.portMappings).toEqual([
        { port: 8888, endpoint: 'https://3560b7fec915bbf9-8888.proxy.novita.example', type: 'http' },
        { port: 22, endpoint: 'ssh.novita.example:31022', type: 'tcp' },
      ]);
      expect(i.envs).toEqual([
        { key: 'HF_TOKEN', value: 'x' },
        { key: 'EMPTY', value: '' },
      ]);
    });

    it('should map a reclaimed spot instance with its reclaim time and running jobs', () => {
      const i = toNovitaInstance({
        ...runningOnDemand,
        status: 'exited',
        billingMode: 'spot',
        spotStatus: 'terminated',
        spotReclaimTime: '1713170000',
        statusError: { state: 'reclaimed', message: 'spot capacity reclaimed' },
        jobs: [{ Id: 'job-1', type: 'instanceMigrate' }],
        portMappings: null,
        envs: null,
      });
      expect(i.billingMode).toBe('spot');
      expect(i.spotStatus).toBe('terminated');
      expect(i.spotReclaimTime).toBe(1_713_170_000_000);
      expect(i.statusError).toEqual({ state: 'reclaimed', message: 'spot capacity reclaimed' });
      expect(i.jobs).toEqual([{ id: 'job-1', type: 'instanceMigrate' }]);
      expect(i.portMappings).toEqual([]);
      expect(i.envs).toEqual([]);
    });

    it('should keep unknown statuses instead of rejecting them', () => {
      expect(toNovitaInstance({ ...runningOnDemand, status: 'pending' }).status).toBe('pending');
      expect(toNovitaInstance({ ...runningOnDemand, status: 'weird' }).status).toBe('weird');
    });

    it('should give a monthly instance its subscription end and drop unknown billing modes', () => {
      const monthly = toNovitaInstance({ ...runningOnDemand, billingMode: 'monthly', endTime: '1716000000' });
      expect(monthly.billingMode).toBe('monthly');
      expect(monthly.endTime).toBe(1_716_000_000_000);
      expect(toNovitaInstance({ ...runningOnDemand, billingMode: 'barter' }).billingMode).toBe('');
    });

    it('should survive a minimal body with only an id', () => {
      const i = toNovitaInstance({ id: 'abc' });
      expect(i).toMatchObject({
        id: 'abc',
        status: '',
        cpuNum: 0,
        gpuNum: 0,
        portMappings: [],
        spotReclaimTime: null,
      });
    });
  });

  describe('toGpuProduct', () => {
    const product: WireGpuProduct = {
      id: 'prod-4090',
      name: 'RTX 4090 24GB',
      cpuPerGpu: 16,
      memoryPerGpu: '62',
      diskPerGpu: 250,
      availableDeploy: true,
      minRootFS: 10,
      maxRootFS: 500,
      minLocalStorage: 0,
      maxLocalStorage: 1000,
      regions: ['AS-SGP-02 (Singapore)', 'US-01 (Dallas)'],
      price: 67000,
      spotPrice: '35000',
      monthlyPrice: [{ month: 1, price: 30000000 }],
      billingMethods: ['onDemand', 'spot', 'barter'],
      inventoryState: 'high',
    };

    it('should convert prices from 1/100,000 USD to dollars, accepting string prices', () => {
      const p = toGpuProduct(product);
      expect(p.onDemandPrice).toBeCloseTo(0.67, 10);
      expect(p.spotPrice).toBeCloseTo(0.35, 10);
      expect(p.monthlyPrices).toEqual([{ month: 1, price: 300 }]);
      expect(p.memoryPerGpu).toBe(62);
      expect(p.regions).toEqual(['AS-SGP-02 (Singapore)', 'US-01 (Dallas)']);
      expect(p.billingMethods).toEqual(['onDemand', 'spot']);
      expect(p.inventoryState).toBe('high');
    });

    it('should report no spot price when spot is missing or zero, and no regions for the docs "{}"', () => {
      expect(toGpuProduct({ ...product, spotPrice: 0 }).spotPrice).toBeNull();
      expect(toGpuProduct({ ...product, spotPrice: undefined }).spotPrice).toBeNull();
      expect(toGpuProduct({ ...product, regions: {} }).regions).toEqual([]);
      expect(toGpuProduct({ ...product, availableDeploy: null }).availableDeploy).toBe(false);
    });
  });

  it('should map clusters', () => {
    expect(
      toCluster({
        id: '5',
        name: 'EU-01',
        availableGpuType: ['RTX 4090'],
        supportNetworkStorage: true,
        supportInstanceNetwork: false,
      }),
    ).toEqual({
      id: '5',
      name: 'EU-01',
      availableGpuTypes: ['RTX 4090'],
      supportNetworkStorage: true,
      supportInstanceNetwork: false,
    });
  });

  describe('toTemplate', () => {
    const template: WireTemplate = {
      Id: '212',
      createTime: '1713162260',
      name: 'pytorch-jupyter',
      type: 'instance',
      channel: 'private',
      image: 'docker.io/org/pytorch:latest',
      imageAuth: '',
      startCommand: 'jupyter lab',
      rootfsSize: 50,
      ports: [
        { type: 'http', ports: [8888, '7860'] },
        { type: 'tcp', ports: [22] },
      ],
      envs: [{ key: 'A', value: '1' }],
    };

    it('should read the capital Id and flatten grouped ports', () => {
      const t = toTemplate(template);
      expect(t).toEqual({
        id: '212',
        name: 'pytorch-jupyter',
        imageUrl: 'docker.io/org/pytorch:latest',
        imageAuthId: undefined,
        ports: [
          { port: 8888, type: 'http' },
          { port: 7860, type: 'http' },
          { port: 22, type: 'tcp' },
        ],
        envs: [{ key: 'A', value: '1' }],
        command: 'jupyter lab',
        rootfsSize: 50,
      });
    });

    it('should keep a registry-auth id and accept the legacy port string', () => {
      expect(toTemplate({ ...template, imageAuth: 'a1b2' }).imageAuthId).toBe('a1b2');
      expect(flattenTemplatePorts('8080/http, 22/tcp,9/udp')).toEqual([
        { port: 8080, type: 'http' },
        { port: 22, type: 'tcp' },
      ]);
      expect(flattenTemplatePorts(null)).toEqual([]);
    });
  });

  it('should map registry auths', () => {
    expect(toRegistryAuth({ id: 'r1', name: 'docker.io', username: 'u', password: 'p' })).toEqual({
      id: 'r1',
      name: 'docker.io',
      username: 'u',
      password: 'p',
    });
  });

  it('should map jobs with capital Id, nested state and unix-second createdAt', () => {
    const job: WireJob = {
      Id: 'job-9',
      user: '1234',
      type: 'instanceMigrate',
      state: { state: 'fail', error: '', message: 'MIGRATE_INSUFFICIENT_RESOURCE' },
      createdAt: '1713162260',
      instanceId: '3560b7fec915bbf9',
    };
    expect(toNovitaJob(job)).toEqual({
      id: 'job-9',
      type: 'instanceMigrate',
      instanceId: '3560b7fec915bbf9',
      state: 'fail',
      error: 'MIGRATE_INSUFFICIENT_RESOURCE',
      createdAt: 1_713_162_260_000,
    });
  });

  describe('request builders', () => {
    it('should build a create request with joined ports, envs and the gpu kind by default', () => {
      expect(
        toWireCreateRequest({
          name: 'n1',
          productId: 'prod-4090',
          gpuNum: 1,
          rootfsSize: 60,
          imageUrl: 'img',
          ports: [
            { port: 8888, type: 'http' },
            { port: 22, type: 'tcp' },
          ],
          envs: [{ key: 'K', value: 'V' }],
          billingMode: 'spot',
          clusterId: '5',
        }),
      ).toEqual({
        name: 'n1',
        productId: 'prod-4090',
        gpuNum: 1,
        rootfsSize: 60,
        imageUrl: 'img',
        kind: 'gpu',
        ports: '8888/http,22/tcp',
        envs: [{ key: 'K', value: 'V' }],
        billingMode: 'spot',
        clusterId: '5',
      });
    });

    it('should omit empty optional fields and keep an explicit cpu kind', () => {
      const req = toWireCreateRequest({
        productId: 'p',
        gpuNum: 1,
        rootfsSize: 10,
        imageUrl: 'i',
        ports: [],
        envs: [],
        kind: 'cpu',
      });
      expect(req).toEqual({ productId: 'p', gpuNum: 1, rootfsSize: 10, imageUrl: 'i', kind: 'cpu' });
    });

    it('should build list queries without empty filters, sending billingMethod when given', () => {
      expect(toWireListInstancesQuery(2, 50, { name: 'x', status: '' })).toEqual({
        pageNum: 2,
        pageSize: 50,
        name: 'x',
      });
      expect(toWireListProductsQuery({ billingMethod: 'onDemand', gpuNum: 2 })).toEqual({
        billingMethod: 'onDemand',
        gpuNum: 2,
      });
      expect(toWireListProductsQuery()).toEqual({});
      expect(toWireListJobsQuery({ type: 'instanceMigrate', startTime: 1_713_162_260_999 }, 1, 20)).toEqual({
        pageNum: 1,
        pageSize: 20,
        type: 'instanceMigrate',
        startTime: 1_713_162_260,
      });
    });
  });
});

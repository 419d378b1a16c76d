import { NovitaInstance } from '../../infra/novita/novita.types';
import { applyNovitaObservation, observationFingerprint, recordFromNovita } from './instance-observation';
import { InstanceRecord } from './instance.types';

const base: NovitaInstance = {
  id: 'nv-1',
  name: 'one',
  status: 'running',
  clusterId: 'c1',
  clusterName: 'AS-SGP-02 (Singapore)',
  productId: 'p1',
  productName: 'RTX 4090 24GB',
  imageUrl: 'img:1',
  imageAuthId: 'auth',
  command: 'run',
  cpuNum: 8,
  memoryGb: 32,
  gpuNum: 1,
  rootfsSize: 50,
  billingMode: 'spot',
  portMappings: [{ port: 8888, endpoint: 'https://a.example', type: 'http' }],
  envs: [{ key: 'A', value: '1' }],
  kind: 'gpu',
  spotStatus: 'running',
  spotReclaimTime: null,
  statusError: { state: 's', message: 'm' },
  createdAt: 1_700_000_000_000,
  startedAt: 1_700_000_100_000,
  stoppedAt: 1_700_000_050_000,
  lastStartedAt: 1_700_000_100_000,
  lastStoppedAt: 1_700_000_050_000,
  endTime: null,
  jobs: [],
};

/** Every way of changing one field of an observation (nested fields included). */
function variants(): [string, NovitaInstance][] {
  const out: [string, NovitaInstance][] = [];
  for (const [key, value] of Object.entries(base) as [keyof NovitaInstance, unknown][]) {
    const changed: unknown[] =
      typeof value === 'string'
        ? [`${value}x`, '']
        : typeof value === 'number'
          ? [value + 1, 0]
          : value === null
            ? [1_700_000_200_000]
            : [];
    for (const v of changed) out.push([key, { ...base, [key]: v }]);
  }
  out.push(['status exited', { ...base, status: 'exited' }]);
  out.push(['no statusError', { ...base, statusError: undefined }]);
  out.push(['statusError.state', { ...base, statusError: { state: 't', message: 'm' } }]);
  out.push(['statusError.message', { ...base, statusError: { state: 's', message: 'n' } }]);
  out.push(['no startedAt', { ...base, startedAt: undefined }]);
  out.push(['no stoppedAt', { ...base, stoppedAt: undefined }]);
  out.push(['no ports', { ...base, portMappings: [] }]);
  out.push(['port endpoint', { ...base, portMappings: [{ port: 8888, endpoint: '', type: 'http' }] }]);
  out.push([
    'port number',
    { ...base, portMappings: [{ port: 8889, endpoint: 'https://a.example', type: 'http' }] },
  ]);
  out.push([
    'port type',
    { ...base, portMappings: [{ port: 8888, endpoint: 'https://a.example', type: 'tcp' }] },
  ]);
  out.push(['envs', { ...base, envs: [] }]);
  out.push(['jobs', { ...base, jobs: [{ id: 'j', type: 't' }] }]);
  return out;
}

/** The fold's result without the fold's own timestamps. */
function folded(record: InstanceRecord, observed: NovitaInstance): string {
  const now = new Date(1_800_000_000_000);
  const { lastSyncedAt: _s, updatedAt: _u, ...rest } = applyNovitaObservation(record, observed, now);
  return JSON.stringify(rest);
}

describe('observationFingerprint', () => {
  const now = new Date(1_750_000_000_000);
  const records: [string, InstanceRecord][] = [
    ['running', recordFromNovita('inst_a', base, now)],
    [
      'stopped without ports',
      { ...recordFromNovita('inst_b', base, now), status: 'stopped', portMappings: [] },
    ],
    ['ready', { ...recordFromNovita('inst_c', base, now), status: 'ready', readiness: 'passed' }],
  ];

  it.each(records)(
    'differs for every observation that folds differently into a %s record',
    (_name, record) => {
      let folds = 0;
      for (const [field, observed] of variants()) {
        if (folded(record, observed) === folded(record, base)) continue;
        folds++;
        expect({ field, same: observationFingerprint(observed) === observationFingerprint(base) }).toEqual({
          field,
          same: false,
        });
      }
      // The variants do reach the fold: a check that compared nothing would pass too.
      expect(folds).toBeGreaterThan(8);
    },
  );

  it('is the same for observations that differ only in what the fold does not read', () => {
    expect(
      observationFingerprint({ ...base, name: 'other', cpuNum: 2, jobs: [{ id: 'j', type: 't' }] }),
    ).toBe(observationFingerprint(base));
  });
});

import {
  GONE,
  NOVITA_STATUS_MAP,
  RUNNING_LIKE,
  STOPPED_LIKE,
  deriveStatus,
  isOnTheWayUp,
  mapNovitaStatus,
} from './status-mapping';

describe('status mapping', () => {
  // Every value of API-NOTES §4.1 (18 documented + "pending" seen live).
  const expected: [string, string][] = [
    ['pending', 'creating'],
    ['toCreate', 'creating'],
    ['creating', 'creating'],
    ['pulling', 'starting'],
    ['running', 'running'],
    ['toStart', 'starting'],
    ['starting', 'starting'],
    ['toStop', 'stopping'],
    ['stopping', 'stopping'],
    ['exited', 'stopped'],
    ['toRestart', 'starting'],
    ['restarting', 'starting'],
    ['toRemove', 'deleting'],
    ['removing', 'deleting'],
    ['removed', 'deleted'],
    ['toReset', 'starting'],
    ['resetting', 'starting'],
    ['migrating', 'migrating'],
    ['freezing', 'stopped'],
  ];

  it.each(expected)('maps Novita %s to %s', (raw, normalized) => {
    expect(mapNovitaStatus(raw)).toBe(normalized);
  });

  it('covers exactly the documented statuses', () => {
    expect(Object.keys(NOVITA_STATUS_MAP).sort()).toEqual(expected.map(([raw]) => raw).sort());
  });

  it('maps an unknown or missing status to unknown instead of guessing', () => {
    expect(mapNovitaStatus('hibernating')).toBe('unknown');
    expect(mapNovitaStatus('')).toBe('unknown');
    expect(mapNovitaStatus(null)).toBe('unknown');
    // Inherited object keys are not statuses.
    expect(mapNovitaStatus('toString')).toBe('unknown');
  });

  it('refines running with our readiness result, and only running', () => {
    expect(deriveStatus('running', null)).toBe('running');
    expect(deriveStatus('running', 'pending')).toBe('running');
    expect(deriveStatus('running', 'passed')).toBe('ready');
    expect(deriveStatus('running', 'skipped')).toBe('ready');
    expect(deriveStatus('running', 'failed')).toBe('failed');
    expect(deriveStatus('exited', 'passed')).toBe('stopped');
    expect(deriveStatus('toStop', 'failed')).toBe('stopping');
  });

  it('knows which raw statuses are on the way up', () => {
    expect(isOnTheWayUp('toStart')).toBe(true);
    expect(isOnTheWayUp('pulling')).toBe(true);
    expect(isOnTheWayUp('pending')).toBe(true);
    expect(isOnTheWayUp('running')).toBe(false);
    expect(isOnTheWayUp('exited')).toBe(false);
  });

  it('groups normalized statuses for start, stop and gone checks', () => {
    expect([...RUNNING_LIKE].sort()).toEqual(['ready', 'running', 'starting']);
    expect([...STOPPED_LIKE].sort()).toEqual(['stopped', 'stopping']);
    expect([...GONE].sort()).toEqual(['deleted', 'deleting', 'terminated']);
  });

  it('treats a missing status as not on the way up, and refines nothing else', () => {
    expect(isOnTheWayUp(undefined)).toBe(false);
    expect(isOnTheWayUp('toCreate')).toBe(true);
    expect(deriveStatus(undefined, 'passed')).toBe('unknown');
    expect(deriveStatus('pulling', 'passed')).toBe('starting');
  });
});

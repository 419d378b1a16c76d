import { MemoryStateStore } from '../store/memory-state-store';
import { StateStore } from '../store/state-store';
import { instrumentStore } from './instrument-store';

describe('instrumentStore', () => {
  const calls: { command: string; failed: boolean; seconds: number }[] = [];
  const observer = {
    recordStoreCommand: (command: string, seconds: number, failed: boolean) =>
      calls.push({ command, failed, seconds }),
  };

  beforeEach(() => (calls.length = 0));

  it('times each command by method name and passes results through', async () => {
    const store = instrumentStore(new MemoryStateStore(), observer);
    expect(store).toBeInstanceOf(StateStore);
    expect(store.kind).toBe('memory');
    await store.set('a', { n: 1 });
    expect(await store.get('a')).toEqual({ n: 1 });
    expect(calls.map((c) => [c.command, c.failed])).toEqual([
      ['set', false],
      ['get', false],
    ]);
    expect(calls.every((c) => c.seconds >= 0 && c.seconds < 5)).toBe(true);
  });

  it('counts a rejected command as failed and still rejects', async () => {
    const inner = new MemoryStateStore();
    jest.spyOn(inner, 'get').mockRejectedValue(new Error('connection lost'));
    const store = instrumentStore(inner, observer);
    await expect(store.get('a')).rejects.toThrow('connection lost');
    expect(calls).toEqual([expect.objectContaining({ command: 'get', failed: true })]);
  });

  it('does not time withMutex, which runs the caller code, but times what runs inside', async () => {
    const store = instrumentStore(new MemoryStateStore(), observer);
    const result = await store.withMutex('k', async () => {
      await store.set('x', 1);
      return 'done';
    });
    expect(result).toBe('done');
    expect(calls.map((c) => c.command)).toEqual(['set']);
  });
});

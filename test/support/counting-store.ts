import { StateStore } from '../../src/infra/store/state-store';

/**
 * A state store that records the name of every method called on it. For the memory, Redis and Upstash
 * adapters one call is one round trip (a batch is one command, a key scan counts once), so the number of
 * calls is the number of store round trips. Calls the adapter makes on itself are not counted.
 */
export interface CountingStore {
  readonly store: StateStore;
  /** Method names, in call order, since the last reset. */
  readonly calls: string[];
  count(): number;
  reset(): void;
}

export function countingStore(inner: StateStore): CountingStore {
  const calls: string[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store,
    calls,
    count: () => calls.length,
    reset: () => {
      calls.length = 0;
    },
  };
}

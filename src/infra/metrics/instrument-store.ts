import { StateStore } from '../../infra/store/state-store';

/** Commands not timed: withMutex runs the caller's code while holding the mutex, close is not a round trip. */
const UNTIMED = new Set<PropertyKey>(['withMutex', 'close', 'constructor']);

export interface StoreObserver {
  recordStoreCommand(command: string, durationSec: number, failed: boolean): void;
}

/**
 * Wraps a StateStore so each command reports its round-trip time and failures, without any adapter
 * knowing about metrics. Labels are method names (a fixed, small set), never keys.
 */
export function instrumentStore(store: StateStore, observer: StoreObserver): StateStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || UNTIMED.has(prop) || typeof prop !== 'string') {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      const fn = value as (...a: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const started = process.hrtime.bigint();
        const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
        let result: unknown;
        try {
          result = fn.apply(target, args);
        } catch (err) {
          observer.recordStoreCommand(prop, seconds(), true);
          throw err;
        }
        if (!(result instanceof Promise)) return result;
        return result.then(
          (v) => {
            observer.recordStoreCommand(prop, seconds(), false);
            return v;
          },
          (err: unknown) => {
            observer.recordStoreCommand(prop, seconds(), true);
            throw err;
          },
        );
      };
    },
  });
}

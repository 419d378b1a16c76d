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
  // One wrapper per method, made on first use: a store call is on every request's path.
  const timed = new Map<string, (...args: unknown[]) => unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || UNTIMED.has(prop) || typeof prop !== 'string') {
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      }
      let wrapper = timed.get(prop);
      if (!wrapper) {
        wrapper = timedCall(target, prop, observer);
        timed.set(prop, wrapper);
      }
      return wrapper;
    },
  });
}

/** Calls the target's current method (looked up per call, so a later replacement is honoured) and times it. */
function timedCall(
  target: StateStore,
  prop: string,
  observer: StoreObserver,
): (...args: unknown[]) => unknown {
  return (...args: unknown[]) => {
    const fn = Reflect.get(target, prop) as (...a: unknown[]) => unknown;
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
}

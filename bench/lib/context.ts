/** What the runner hands every built-in scenario: sizes for this mode and the shared large account. */
import { Stack, startStack } from './processes';

export interface BenchContext {
  readonly quick: boolean;
  /** Alternating rounds per comparison. */
  readonly rounds: number;
  /** Seconds of load per round. */
  readonly seconds: number;
  /** Instances of the large account (10,000; fewer in quick mode). */
  readonly large: number;
  /** The large account's stack, started on first use and kept for the following scenarios. */
  main(): Promise<Stack>;
  /** Set once a load scenario has run against the main stack (the memory figure is taken after load). */
  loadRan: boolean;
  log(message: string): void;
}

export function createContext(quick: boolean): BenchContext & { close(): Promise<void> } {
  let stack: Promise<Stack> | undefined;
  const started = Date.now();
  return {
    quick,
    rounds: quick ? 1 : 3,
    seconds: quick ? 2 : 5,
    large: quick ? 1_000 : 10_000,
    loadRan: false,
    main() {
      stack ??= startStack(this.large);
      return stack;
    },
    log(message: string) {
      console.log(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${message}`);
    },
    async close() {
      if (stack) await (await stack.catch(() => undefined))?.stop();
    },
  };
}

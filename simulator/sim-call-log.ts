/** The log of API calls the simulator received, for assertions in tests. */
import { CallLogEntry, CallLogFilter } from './sim-types';

export class SimCallLog {
  private entries: CallLogEntry[] = [];

  /** Returns the entry so the server can fill in the status when it answers. */
  record(entry: CallLogEntry): CallLogEntry {
    this.entries.push(entry);
    return entry;
  }

  list(filter: CallLogFilter = {}): CallLogEntry[] {
    return this.entries
      .filter(
        (e) =>
          (filter.method === undefined || e.method === filter.method.toUpperCase()) &&
          (filter.path === undefined || e.path.includes(filter.path)) &&
          (filter.status === undefined || e.status === filter.status),
      )
      .map((e) => ({ ...e, query: { ...e.query } }));
  }

  clear(): void {
    this.entries = [];
  }
}

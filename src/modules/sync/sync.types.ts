export interface SyncOptions {
  /** Run even when automatic sync is disabled (kept for the previous API; a manual pass always runs). */
  forceSync: boolean;
  /** Apply the obsolete-instance policy (mark terminated or remove). */
  handleObsoleteInstances: boolean;
  /** Compute and report everything, change nothing. */
  dryRun: boolean;
}

export interface SyncError {
  instanceId?: string;
  novitaInstanceId?: string;
  message: string;
}

/** One pass's result, in the field names of the previous API plus what this pass adds. */
export interface SyncReport {
  runId: string;
  beforeSync: number;
  afterSync: number;
  novitaInstances: number;
  localInstances: number;
  mergedInstances: number;
  totalInstances: number;
  instancesRemoved: number;
  updated: number;
  adopted: number;
  markedObsolete: number;
  unchanged: number;
  pages: number;
  errors: SyncError[];
  duration: number;
  timestamp: string;
  options: SyncOptions;
}

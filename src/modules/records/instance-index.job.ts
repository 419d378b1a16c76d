import { Injectable, OnModuleInit } from '@nestjs/common';
import { BackgroundLoop } from '../../infra/scheduling/background-loop.service';
import { InstanceRepository } from './instance.repository';

export const INSTANCE_INDEX_JOB = 'instance-index';
/**
 * Deleted records expire after 7 days; their index entries are swept this often. A build that could
 * not finish at startup (store down) is retried as often.
 */
const PASS_INTERVAL_MS = 3600_000;

/**
 * Keeps the list indexes whole: at startup it builds them once for records written before they
 * existed (the version mark in the store stops other replicas and restarts from redoing it, and an
 * interrupted build is simply run again), and every PASS_INTERVAL_MS it takes out the entries of
 * records that expired. Writes keep the indexes current themselves (InstanceRepository).
 */
@Injectable()
export class InstanceIndexJob implements OnModuleInit {
  constructor(
    private readonly loop: BackgroundLoop,
    private readonly repo: InstanceRepository,
  ) {}

  onModuleInit(): void {
    this.loop.register({
      name: INSTANCE_INDEX_JOB,
      kind: 'periodic',
      runOnStart: true,
      enabled: true,
      intervalMs: PASS_INTERVAL_MS,
      run: async () => {
        const indexed = await this.repo.buildIndexes();
        const pruned = await this.repo.pruneIndexes();
        return { counts: { indexed, pruned } };
      },
    });
  }
}

import { Injectable, Module } from '@nestjs/common';

/** Set once SIGTERM arrives; readiness reads it so the load balancer stops sending traffic. */
@Injectable()
export class ShutdownState {
  private since: Date | null = null;

  begin(at = new Date()): void {
    this.since ??= at;
  }

  get draining(): boolean {
    return this.since !== null;
  }

  get drainingSince(): Date | null {
    return this.since;
  }
}

@Module({ providers: [ShutdownState], exports: [ShutdownState] })
export class LifecycleModule {}

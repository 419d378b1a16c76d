import { Injectable, Module } from '@nestjs/common';

/** A named top-level block of GET /health, e.g. `sync` or `migrationService`. */
export type HealthBlock = () => Record<string, unknown> | Promise<Record<string, unknown>>;

/**
 * Lets feature modules add their own block to the detailed health report without the health
 * module knowing them: import HealthBlocksModule, inject HealthBlockRegistry and call
 * `blocks.register('sync', () => sync.status())` in the module's onModuleInit. It lives apart from
 * the health module (which imports features such as webhooks) so that no import cycle can form.
 * A block that throws is reported as `{ available: false, error }` instead of failing /health.
 */
@Injectable()
export class HealthBlockRegistry {
  private readonly blocks = new Map<string, HealthBlock>();

  register(name: string, block: HealthBlock): void {
    if (RESERVED.has(name)) throw new Error(`"${name}" is a built-in /health field`);
    this.blocks.set(name, block);
  }

  async collect(): Promise<Record<string, Record<string, unknown>>> {
    const entries = await Promise.all(
      [...this.blocks].map(async ([name, block]) => {
        try {
          return [name, await block()] as const;
        } catch (err) {
          return [name, { available: false, error: (err as Error).message }] as const;
        }
      }),
    );
    return Object.fromEntries(entries);
  }
}

const RESERVED = new Set(['status', 'timestamp', 'uptimeSeconds', 'services', 'performance', 'system']);

/** Imports nothing, so any module can import it. */
@Module({ providers: [HealthBlockRegistry], exports: [HealthBlockRegistry] })
export class HealthBlocksModule {}

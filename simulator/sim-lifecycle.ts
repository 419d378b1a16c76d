/**
 * The instance state machine (API-NOTES §4.2). Transitions are plans of timed steps computed
 * lazily from the clock: nothing runs in the background, so advancing the clock is deterministic.
 */
import { Plan, PlanKind, PlanStep, SimInstance, SimTimings } from './sim-types';

type Phase = [status: string, timing: keyof SimTimings, spotStatus?: string];

const PHASES: Record<PlanKind, { phases: Phase[]; final: string }> = {
  create: {
    phases: [
      ['pending', 'pending'],
      ['toCreate', 'toCreate'],
      ['creating', 'creating'],
      ['pulling', 'pulling'],
    ],
    final: 'running',
  },
  start: {
    phases: [
      ['toStart', 'toStart'],
      ['starting', 'starting'],
    ],
    final: 'running',
  },
  stop: {
    phases: [
      ['toStop', 'toStop'],
      ['stopping', 'stopping'],
    ],
    final: 'exited',
  },
  restart: {
    phases: [
      ['toRestart', 'toRestart'],
      ['restarting', 'restarting'],
    ],
    final: 'running',
  },
  delete: {
    phases: [
      ['toRemove', 'toRemove'],
      ['removing', 'removing'],
    ],
    final: 'removed',
  },
  migrate: { phases: [['migrating', 'migrating']], final: 'running' },
  reclaim: {
    phases: [
      ['running', 'spotNotice', 'notified'],
      ['running', 'spotReclaiming', 'reclaiming'],
    ],
    final: 'exited',
  },
};

/** Where each operation may start from; anything else is 400 "invalid state change" (§4.2 table). */
export const ALLOWED_FROM: Record<'start' | 'stop' | 'restart' | 'migrate', string[]> = {
  start: ['exited'],
  stop: ['running', 'pulling', 'starting'],
  restart: ['running'],
  migrate: ['exited'],
};

/** Statuses during which the instance occupies GPUs on its node. */
export const HOLDS_GPUS = new Set([
  'pending',
  'toCreate',
  'creating',
  'pulling',
  'running',
  'toStart',
  'starting',
  'toRestart',
  'restarting',
  'toStop',
  'stopping',
  'migrating',
  'toReset',
  'resetting',
]);

/** Builds a plan starting at `now`. `fromStatus` skips the phases before it (used when seeding mid-transition). */
export function buildPlan(kind: PlanKind, timings: SimTimings, now: number, fromStatus?: string): Plan {
  const def = PHASES[kind];
  let phases = def.phases.filter(([, timing]) => timings[timing] > 0);
  if (fromStatus !== undefined) {
    const i = def.phases.findIndex(([status]) => status === fromStatus);
    phases = def.phases
      .slice(Math.max(i, 0))
      .filter(([status, timing]) => status === fromStatus || timings[timing] > 0);
  }
  const steps: PlanStep[] = [];
  let t = now;
  for (const [status, timing, spotStatus] of phases) {
    // A seeded phase keeps at least 1 ms so the instance is observable in it.
    t += Math.max(timings[timing], status === fromStatus ? 1 : 0);
    steps.push({ status, spotStatus, endsAt: t });
  }
  return { kind, startedAt: now, steps, final: def.final };
}

/** Which plan a seeded transitional status belongs to. */
export function planKindForStatus(status: string): PlanKind | undefined {
  for (const kind of Object.keys(PHASES) as PlanKind[]) {
    if (kind !== 'reclaim' && PHASES[kind].phases.some(([s]) => s === status)) return kind;
  }
  return undefined;
}

export function planEnd(plan: Plan): number {
  return plan.steps.length ? plan.steps[plan.steps.length - 1].endsAt : plan.startedAt;
}

/**
 * Moves the instance's visible status to what it is at `now`. Returns the plan and its end time
 * when the plan has just completed, so the caller can apply the completion's side effects.
 */
export function settlePlan(inst: SimInstance, now: number): { plan: Plan; at: number } | undefined {
  const plan = inst.plan;
  if (!plan) return undefined;
  const current = plan.steps.find((s) => now < s.endsAt);
  if (current) {
    inst.status = current.status;
    if (current.spotStatus !== undefined) inst.spotStatus = current.spotStatus;
    return undefined;
  }
  const at = planEnd(plan);
  inst.plan = null;
  inst.status = plan.fails ? 'migrating' : plan.final;
  return { plan, at };
}

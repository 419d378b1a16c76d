/**
 * The simulator's clock. Simulated time = a base + real time elapsed × speed + manual advances,
 * so tests can freeze it (speed 0) and move it by exact amounts, and demos can run it faster.
 */
export class SimClock {
  private baseSim: number;
  private baseReal: number;
  private speed: number;

  constructor(speed = 1, start = Date.now()) {
    this.baseSim = start;
    this.baseReal = Date.now();
    this.speed = speed;
  }

  now(): number {
    return Math.floor(this.baseSim + (Date.now() - this.baseReal) * this.speed);
  }

  /** Changes the speed from now on, without jumping. */
  setSpeed(factor: number): void {
    if (!(factor >= 0)) throw new Error('speed must be >= 0');
    this.rebase();
    this.speed = factor;
  }

  getSpeed(): number {
    return this.speed;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error('advance needs ms >= 0');
    this.rebase();
    this.baseSim += ms;
  }

  private rebase(): void {
    this.baseSim = this.now();
    this.baseReal = Date.now();
  }
}

/** Seedable PRNG (mulberry32): same seed, same sequence of ids and faults. */
export class SimRng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  hex(length: number): string {
    let out = '';
    while (out.length < length) out += Math.floor(this.next() * 16).toString(16);
    return out;
  }
}

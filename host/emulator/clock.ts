// A virtual clock and dispatcher (Envoy's TimeSource + Dispatcher) for deterministic tests: time
// only moves when the test advances it; timers fire in due order; posted callbacks run when the
// emulator drains them (after each emulator operation), like work posted to a worker's event loop.
import type { Dispatcher, Timer } from "../envoy/server-context.js";

/** 2024-01-01T00:00:00Z, so that timestamps in tests are stable. */
export const defaultStartTimeNs = 1_704_067_200_000_000_000n;

interface ScheduledTimer {
  dueNs: bigint;
  seq: number;
  timer: VirtualTimer;
}

class VirtualTimer implements Timer {
  scheduled: ScheduledTimer | null = null;
  constructor(
    private readonly clock: VirtualClock,
    readonly callback: () => void,
  ) {}
  get enabled(): boolean {
    return this.scheduled !== null;
  }
  enable(ms: number): void {
    this.clock.schedule(this, ms);
  }
  disable(): void {
    this.clock.unschedule(this);
  }
}

export class VirtualClock implements Dispatcher {
  private wallNs: bigint;
  private monoNs = 1_000_000_000n;
  private timers: ScheduledTimer[] = [];
  private posted: Array<() => void> = [];
  private seq = 0;

  constructor(startTimeNs: bigint = defaultStartTimeNs) {
    this.wallNs = startTimeNs;
  }

  systemTimeNs(): bigint {
    return this.wallNs;
  }
  monotonicTimeNs(): bigint {
    return this.monoNs;
  }

  createTimer(callback: () => void): Timer {
    return new VirtualTimer(this, callback);
  }

  post(callback: () => void): void {
    this.posted.push(callback);
  }

  /** @internal */
  schedule(timer: VirtualTimer, ms: number): void {
    this.unschedule(timer);
    const entry = { dueNs: this.monoNs + BigInt(Math.max(0, Math.round(ms * 1e6))), seq: this.seq++, timer };
    timer.scheduled = entry;
    this.timers.push(entry);
  }

  /** @internal */
  unschedule(timer: VirtualTimer): void {
    if (!timer.scheduled) return;
    this.timers = this.timers.filter((t) => t !== timer.scheduled);
    timer.scheduled = null;
  }

  /** Runs posted callbacks until none are left (they may post more). */
  runPosted(): void {
    for (let guard = 0; this.posted.length > 0; guard++) {
      if (guard > 100_000) throw new Error("posted callbacks keep posting more (endless loop?)");
      this.posted.shift()!();
    }
  }

  /** Moves both clocks forward by `ms`, firing due timers (and posted work) in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot advance the clock by ${ms} ms`);
    const target = this.monoNs + BigInt(Math.round(ms * 1e6));
    this.runPosted();
    for (;;) {
      const next = this.timers.reduce<ScheduledTimer | null>((a, t) => (!a || t.dueNs < a.dueNs || (t.dueNs === a.dueNs && t.seq < a.seq) ? t : a), null);
      if (!next || next.dueNs > target) break;
      this.setMono(next.dueNs);
      this.unschedule(next.timer);
      next.timer.callback();
      this.runPosted();
    }
    this.setMono(target);
  }

  /** Pending timers (for inspection). */
  get pendingTimers(): number {
    return this.timers.length;
  }

  private setMono(ns: bigint): void {
    this.wallNs += ns - this.monoNs;
    this.monoNs = ns;
  }
}

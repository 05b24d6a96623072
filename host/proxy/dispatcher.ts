// Envoy's Dispatcher on Node's event loop: wall and monotonic clocks, timers, and post() for work
// that runs on the next loop iteration, as Envoy's dispatcher post does.
import type { Dispatcher, Timer } from "../envoy/server-context.js";

class NodeTimer implements Timer {
  private handle: NodeJS.Timeout | undefined;

  constructor(private readonly callback: () => void) {}

  get enabled(): boolean {
    return this.handle !== undefined;
  }

  enable(ms: number): void {
    this.disable();
    this.handle = setTimeout(() => {
      this.handle = undefined;
      this.callback();
    }, Math.max(0, ms));
  }

  disable(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
  }
}

export class NodeDispatcher implements Dispatcher {
  systemTimeNs(): bigint {
    return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  }

  monotonicTimeNs(): bigint {
    return process.hrtime.bigint();
  }

  createTimer(callback: () => void): Timer {
    return new NodeTimer(callback);
  }

  post(callback: () => void): void {
    setImmediate(callback);
  }
}

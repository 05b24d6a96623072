// Shared data and shared queues (proxy-wasm-cpp-host src/shared_data.cc, src/shared_queue.cc;
// proxy-wasm-abi.md §2.8): process-wide, partitioned by vm_id, shared by every VM and worker.
// One SharedState exists per ServerContext (one per proxy process; one per emulator so tests are
// isolated). Because all workers run in one Node thread, the emulator can inject contention — a
// competing write between a module's get and its CAS set — to exercise CAS retry paths.
import type { ServerContext } from "../envoy/server-context.js";
import { WasmResult } from "./types.js";

interface Entry {
  value: Uint8Array;
  cas: number;
}

/** Whoever registered a queue last: notified with on_queue_ready (via its worker's dispatcher). */
export interface QueueRegistrant {
  onQueueReady(token: number): void;
  readonly deleted: boolean;
}

interface Queue {
  vmId: string;
  name: string;
  items: Uint8Array[];
  registrant: QueueRegistrant;
}

interface InjectedWrite {
  value: Uint8Array;
  remaining: number;
}

export class SharedState {
  private readonly data = new Map<string, Map<string, Entry>>();
  /** cpp-host SharedData::cas_: a global counter, never 0. */
  private nextCasValue = 1;
  private readonly queues = new Map<number, Queue>();
  private readonly queueTokens = new Map<string, number>();
  private nextQueueToken = 1;
  private readonly vmIdRefs = new Map<string, number>();
  private readonly injected = new Map<string, InjectedWrite>();

  constructor(private readonly server: ServerContext) {}

  // ------------------------------------------------------------------ vm_id lifetime

  /** A VM with this vm_id came to life (cpp-host VmIdHandle). */
  retainVmId(vmId: string): void {
    this.vmIdRefs.set(vmId, (this.vmIdRefs.get(vmId) ?? 0) + 1);
  }

  /** A VM went away; the last one drops the vm_id's shared data and queues. */
  releaseVmId(vmId: string): void {
    const n = (this.vmIdRefs.get(vmId) ?? 1) - 1;
    if (n > 0) {
      this.vmIdRefs.set(vmId, n);
      return;
    }
    this.vmIdRefs.delete(vmId);
    this.data.delete(vmId);
    for (const [token, q] of this.queues) {
      if (q.vmId !== vmId) continue;
      this.queues.delete(token);
      this.queueTokens.delete(queueKey(vmId, q.name));
    }
  }

  // ------------------------------------------------------------------ shared data

  private nextCas(): number {
    const cas = this.nextCasValue;
    this.nextCasValue = (this.nextCasValue + 1) >>> 0 || 1;
    return cas;
  }

  /** The entry of a key; `value` is the stored bytes (a later set may overwrite them): copy to keep. */
  get(vmId: string, key: string): { value: Uint8Array; cas: number } | null {
    const e = this.data.get(vmId)?.get(key);
    return e ? { value: e.value, cas: e.cas } : null;
  }

  /** SharedData::set: a CAS mismatch only matters for an existing key and a non-zero cas. */
  set(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult {
    if (cas !== 0) this.applyInjectedWrite(vmId, key);
    let map = this.data.get(vmId);
    if (!map) this.data.set(vmId, (map = new Map()));
    const existing = map.get(key);
    if (existing && cas !== 0 && cas !== existing.cas) return WasmResult.CasMismatch;
    if (existing && existing.value.length === value.length) {
      // Same size (a counter, a token bucket: the common rewrite): the stored copy is overwritten in
      // place instead of allocating a new one. Readers copy values out at once (get() callers).
      existing.value.set(value);
      existing.cas = this.nextCas();
    } else {
      map.set(key, { value: Uint8Array.from(value), cas: this.nextCas() });
    }
    return WasmResult.Ok;
  }

  /** All keys of a vm_id (for tests and the emulator; not part of the ABI). */
  keys(vmId: string): string[] {
    return [...(this.data.get(vmId)?.keys() ?? [])];
  }

  /**
   * Before the next `times` CAS-conditional writes of `key`, another "worker" writes `value`
   * unconditionally, so a module's get → CAS set sees CasMismatch and must retry.
   */
  injectContention(vmId: string, key: string, value: Uint8Array, times = 1): void {
    this.injected.set(queueKey(vmId, key), { value: Uint8Array.from(value), remaining: times });
  }

  private applyInjectedWrite(vmId: string, key: string): void {
    if (this.injected.size === 0) return;
    const k = queueKey(vmId, key);
    const w = this.injected.get(k);
    if (!w) return;
    if (--w.remaining <= 0) this.injected.delete(k);
    this.set(vmId, key, w.value, 0);
  }

  // ------------------------------------------------------------------ shared queues

  /** SharedQueue::registerQueue: same token for the same (vm_id, name); re-targets notifications. */
  registerQueue(vmId: string, name: string, registrant: QueueRegistrant): number {
    const k = queueKey(vmId, name);
    let token = this.queueTokens.get(k);
    if (token === undefined) {
      token = this.nextQueueToken++;
      this.queueTokens.set(k, token);
      this.queues.set(token, { vmId, name, items: [], registrant });
    }
    this.queues.get(token)!.registrant = registrant;
    return token;
  }

  resolveQueue(vmId: string, name: string): number {
    return this.queueTokens.get(queueKey(vmId, name)) ?? 0;
  }

  /** SharedQueue::enqueue: appends and posts on_queue_ready to the last registrant's worker. */
  enqueue(token: number, value: Uint8Array): WasmResult {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    q.items.push(Uint8Array.from(value));
    const target = q.registrant;
    this.server.dispatcher.post(() => {
      if (!target.deleted) target.onQueueReady(token);
    });
    return WasmResult.Ok;
  }

  dequeue(token: number): { status: WasmResult; value?: Uint8Array } {
    const q = this.queues.get(token);
    if (!q) return { status: WasmResult.NotFound };
    const value = q.items.shift();
    return value ? { status: WasmResult.Ok, value } : { status: WasmResult.Empty };
  }

  /** Queue contents without dequeuing (tests). */
  peekQueue(token: number): Uint8Array[] | undefined {
    return this.queues.get(token)?.items.slice();
  }
}

const queueKey = (vmId: string, name: string): string => `${vmId}\u0000${name}`;

const perServer = new WeakMap<ServerContext, SharedState>();

/** The shared state of one server (process). */
export function sharedStateOf(server: ServerContext): SharedState {
  let s = perServer.get(server);
  if (!s) perServer.set(server, (s = new SharedState(server)));
  return s;
}

// Where bucket slots live.
// - SharedDataStore: proxy-wasm shared data, one key per slot, shared by every worker VM with the
//   same vm_id (proxy-wasm-abi.md §2.8). Istio leaves vm_id empty, so every WasmPlugin of a proxy
//   shares one key space (filters.md §0): keys are namespaced
//   "rl:<plugin_name>:<rule>:<bucket fingerprint>:<slot>". The fingerprint changes with the bucket
//   settings, so a changed configuration starts new buckets instead of misreading old levels.
// - LocalStore: per-connection buckets (local_rate_limit_per_downstream_connection) in the VM's own
//   memory. All streams of a downstream connection run on the worker that accepted it (Envoy pins a
//   connection to one worker thread, and each worker has its own VM), so these buckets need no
//   cross-worker sharing, no CAS and no shared data at all.
import { WasmResult, getSharedData, lastWasmResult, setSharedData, updateSharedData } from "proxy-wasm-as";
import { SLOT_SIZE, SlotUpdate } from "./bucket-slot";
import { BucketStore } from "./bucket-table";

/**
 * The shared-data keys of a table's slots, "<prefix><slot>" with the slot number zero-padded to a
 * fixed width. One string is kept and its digits rewritten in place for each slot: no key is
 * allocated per request, and a table of 65536 slots does not keep 65536 strings in every VM. The
 * string is this class's own and is only ever read by the host call it is passed to (the SDK
 * encodes it afresh each time), so changing it between calls is safe.
 */
class SlotKeys {
  private readonly key: string;
  private readonly digitsAt: usize;
  private readonly width: i32;

  constructor(prefix: string, size: i32) {
    let width = 1;
    for (let n = size - 1; n >= 10; n /= 10) width++;
    this.width = width;
    this.key = prefix + "0".repeat(width);
    this.digitsAt = changetype<usize>(this.key) + (<usize>prefix.length << 1);
  }

  of(slot: i32): string {
    let n = slot;
    for (let i = this.width - 1; i >= 0; i--) {
      store<u16>(this.digitsAt + (<usize>i << 1), <u16>(0x30 + n % 10));
      n /= 10;
    }
    return this.key;
  }
}

export class SharedDataStore implements BucketStore {
  private readonly keys: SlotKeys;

  constructor(keyPrefix: string, private readonly size: i32) {
    this.keys = new SlotKeys(keyPrefix, size);
  }

  read(slot: i32): ArrayBuffer | null {
    const data = getSharedData(this.keys.of(slot));
    return data === null ? null : data.value;
  }

  update(slot: i32, update: SlotUpdate, maxAttempts: i32): WasmResult {
    return updateSharedData(this.keys.of(slot), update, maxAttempts);
  }

  /**
   * Creates every missing slot as a never-used, full bucket. The host stores a write to a missing
   * key whatever its CAS, so two workers creating a key at once could both "win" and one token
   * could be spent twice; creating the keys here, at configure time, leaves only CAS-guarded writes
   * on the request path. Envoy configures the plugin in its canary VM on the main thread before any
   * worker VM serves a request, so the canary creates them before any traffic.
   */
  createMissing(freeSlot: ArrayBuffer): WasmResult {
    for (let i = 0; i < this.size; i++) {
      const key = this.keys.of(i);
      if (getSharedData(key) !== null) continue;
      if (lastWasmResult() != WasmResult.NotFound) return lastWasmResult();
      const result = setSharedData(key, freeSlot, 0);
      if (result != WasmResult.Ok) return result;
    }
    return WasmResult.Ok;
  }
}

export class LocalStore implements BucketStore {
  private readonly slots: StaticArray<ArrayBuffer>;

  constructor(freeSlot: ArrayBuffer, size: i32) {
    const slots = new StaticArray<ArrayBuffer>(size);
    for (let i = 0; i < size; i++) slots[i] = freeSlot.slice(0);
    this.slots = slots;
  }

  read(slot: i32): ArrayBuffer | null {
    return unchecked(this.slots[slot]);
  }

  /** One VM runs one callback at a time, so the read-modify-write cannot be interleaved. */
  update(slot: i32, update: SlotUpdate, maxAttempts: i32): WasmResult {
    const current = unchecked(this.slots[slot]);
    const next = update.update(current);
    if (next !== null) memory.copy(changetype<usize>(current), changetype<usize>(next), <usize>SLOT_SIZE);
    return WasmResult.Ok;
  }
}

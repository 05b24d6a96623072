// One bucket slot as stored in shared data (or in the VM for per-connection buckets), and the
// decision a request takes on it. A slot is 24 bytes, little-endian:
//   [0..8)   owner  u64  hash of the descriptor that owns the bucket; 0 = never used
//   [8..16)  level  i64  token level in the units of token-bucket.ts
//   [16..24) last   i64  time (ns) the level was computed for
// Holding tokens and time in one value lets a single compare-and-swap update both (filters.md
// §4.4, proxy-wasm-abi.md §2.8), so workers refill lazily from elapsed time with no tick
// coordination. A bucket that has refilled to full is indistinguishable from a new one (buckets
// start full, as in Envoy), so its slot can be handed to another descriptor without changing what
// either would be allowed: that is how the bounded table reuses keys (the ABI has no delete).
// Pure code: no host imports.
import { SharedDataUpdate } from "proxy-wasm-as";
import { BucketParams } from "./token-bucket";

export const SLOT_SIZE: i32 = 24;

/** The owner of never-used slots; descriptor hashes are mapped away from it. */
export const FREE_OWNER: u64 = 0;

export class SlotState {
  owner: u64 = FREE_OWNER;
  level: i64 = 0;
  lastNs: i64 = 0;

  /** Reads a stored slot; a missing or malformed value reads as a never-used, full slot. */
  decode(value: ArrayBuffer | null, params: BucketParams): void {
    if (value === null || value.byteLength != SLOT_SIZE) {
      this.owner = FREE_OWNER;
      this.level = params.capacity;
      this.lastNs = 0;
      return;
    }
    const p = changetype<usize>(value);
    this.owner = load<u64>(p);
    this.level = load<i64>(p, 8);
    this.lastNs = load<i64>(p, 16);
  }

  encode(out: ArrayBuffer): ArrayBuffer {
    const p = changetype<usize>(out);
    store<u64>(p, this.owner);
    store<i64>(p, this.level, 8);
    store<i64>(p, this.lastNs, 16);
    return out;
  }
}

/** A never-used slot holding a full bucket: what configure stores before any request. */
export function encodeFreeSlot(params: BucketParams): ArrayBuffer {
  const s = new SlotState();
  s.level = params.capacity;
  return s.encode(new ArrayBuffer(SLOT_SIZE));
}

export const enum SlotOutcome {
  /** A token was taken (the new state is to be written). */
  Consumed,
  /** The owner's bucket holds less than one token (nothing to write). */
  Denied,
  /** Another descriptor's bucket, not yet full: this slot is not ours to use. */
  Occupied,
}

/**
 * The read-modify-write a request applies to one slot, for the SDK's updateSharedData CAS loop:
 * called again with the fresh value whenever another worker wrote in between.
 */
export class SlotUpdate implements SharedDataUpdate {
  owner: u64 = FREE_OWNER;
  nowNs: i64 = 0;
  /** Result of the last call. */
  outcome: SlotOutcome = SlotOutcome.Occupied;
  /** Level after this request's decision (refilled, minus the token taken if any). */
  level: i64 = 0;
  /** How many times update() ran: reads of the slot, one more per lost race. */
  calls: i32 = 0;

  private readonly state: SlotState = new SlotState();
  // Reused for every write: the host copies the bytes during the set call.
  private readonly out: ArrayBuffer = new ArrayBuffer(SLOT_SIZE);

  constructor(readonly params: BucketParams) {}

  reset(owner: u64, nowNs: i64): void {
    this.owner = owner;
    this.nowNs = nowNs;
    this.outcome = SlotOutcome.Occupied;
    this.level = 0;
    this.calls = 0;
  }

  update(current: ArrayBuffer | null): ArrayBuffer | null {
    this.calls++;
    const params = this.params;
    const s = this.state;
    s.decode(current, params);
    const now = this.nowNs;
    const level = params.refill(s.level, now - s.lastNs);
    if (s.owner != this.owner) {
      // Claimable only if never used or refilled to full: then nothing of the old owner is lost.
      if (s.owner != FREE_OWNER && level < params.capacity) {
        this.outcome = SlotOutcome.Occupied;
        this.level = level;
        return null;
      }
      s.owner = this.owner;
      s.lastNs = now;
      return this.take(params.capacity);
    }
    if (!params.canConsume(level)) {
      this.outcome = SlotOutcome.Denied;
      this.level = level;
      return null;
    }
    // A clock that went backwards (wall-clock fallback) must not move `last` back: the interval
    // between would be refilled twice.
    if (now > s.lastNs) s.lastNs = now;
    return this.take(level);
  }

  private take(level: i64): ArrayBuffer {
    const s = this.state;
    s.level = level - this.params.unit;
    this.level = s.level;
    this.outcome = SlotOutcome.Consumed;
    return s.encode(this.out);
  }
}

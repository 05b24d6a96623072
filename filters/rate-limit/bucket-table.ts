// A bounded table of bucket slots for one rule, and the token acquisition a request performs on it.
// A descriptor's bucket lives in one of `probe` consecutive slots starting at hash % size (open
// addressing). A request scans that window read-only, then CAS-updates the slot it picked with
// the SDK's bounded-retry helper:
// - its own slot: take a token, or be denied;
// - else the first claimable slot (never used, or a bucket refilled to full): claim it, taking a
//   token from a full bucket — exactly what a new descriptor gets in Envoy.
// Slots are claimed in window order and never return to "never used", so the scan can stop at the
// first never-used slot: the descriptor's slot, if any, is before it. If every slot of the window
// holds another descriptor's bucket that is not full, the request cannot be given a bucket
// (Overflow) and the configured failure mode decides. Envoy bounds its dynamic descriptors with an
// LRU (max_dynamic_descriptors, default 20) whose evictions restart a bucket full; reusing only
// full buckets never hands out a token that an evicted bucket had withheld.
import { WasmResult } from "proxy-wasm-as";
import { FREE_OWNER, SlotOutcome, SlotState, SlotUpdate } from "./bucket-slot";
import { BucketParams } from "./token-bucket";

/** Where a rule's slots are kept: shared data (all workers) or the VM (per-connection buckets). */
export interface BucketStore {
  /** The stored value of a slot, or null if it does not exist. */
  read(slot: i32): ArrayBuffer | null;
  /** Applies `update` with compare-and-swap, reading at most `maxAttempts` times. */
  update(slot: i32, update: SlotUpdate, maxAttempts: i32): WasmResult;
}

export const enum Verdict {
  /** A token was taken. */
  Allowed,
  /** The bucket is empty. */
  Denied,
  /** Every CAS attempt lost a race (or the host refused the write): the failure mode decides. */
  Exhausted,
  /** No slot in the descriptor's window could hold its bucket: the failure mode decides. */
  Overflow,
}

/** Longest probe window: bounds the reads a request makes before it gives up on a slot. */
export const MAX_PROBE: i32 = 8;

export class BucketTable {
  readonly probe: i32;
  /** Level after the last Allowed/Denied verdict, for the response headers. */
  level: i64 = 0;

  private readonly slotUpdate: SlotUpdate;
  private readonly scanned: SlotState = new SlotState();

  constructor(
    readonly params: BucketParams,
    readonly store: BucketStore,
    readonly size: i32,
    readonly maxAttempts: i32,
  ) {
    this.probe = size < MAX_PROBE ? size : MAX_PROBE;
    this.slotUpdate = new SlotUpdate(params);
  }

  /** Takes one token from the bucket of the descriptor whose hash is `owner` (never FREE_OWNER). */
  acquire(owner: u64, nowNs: i64): Verdict {
    const update = this.slotUpdate;
    let attemptsLeft = this.maxAttempts;
    while (true) {
      const slot = this.size == 1 ? 0 : this.findSlot(owner, nowNs);
      if (slot < 0) return Verdict.Overflow;
      update.reset(owner, nowNs);
      const result = this.store.update(slot, update, attemptsLeft);
      attemptsLeft -= update.calls;
      if (result != WasmResult.Ok) return Verdict.Exhausted;
      if (update.outcome == SlotOutcome.Consumed) {
        this.level = update.level;
        return Verdict.Allowed;
      }
      if (update.outcome == SlotOutcome.Denied) {
        this.level = update.level;
        return Verdict.Denied;
      }
      // Another descriptor holds the slot (claimed since the scan, or the only slot): scan again.
      if (this.size == 1) return Verdict.Overflow;
      if (attemptsLeft <= 0) return Verdict.Exhausted;
    }
    return Verdict.Exhausted;
  }

  /** The slot this descriptor owns in its window, else the first claimable one, else -1. */
  private findSlot(owner: u64, nowNs: i64): i32 {
    const size = <u64>this.size;
    const params = this.params;
    const s = this.scanned;
    const start = owner % size;
    let claimable: i32 = -1;
    for (let i = 0; i < this.probe; i++) {
      const slot = <i32>((start + <u64>i) % size);
      s.decode(this.store.read(slot), params);
      if (s.owner == owner) return slot;
      if (s.owner == FREE_OWNER) return claimable >= 0 ? claimable : slot;
      if (claimable < 0 && params.refill(s.level, nowNs - s.lastNs) == params.capacity) claimable = slot;
    }
    return claimable;
  }
}

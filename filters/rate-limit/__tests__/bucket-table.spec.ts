// Bucket slots and the bounded slot table over an in-memory store that behaves like proxy-wasm
// shared data (a CAS per value, and a hook that makes another "worker" write between a read and
// the CAS write).
import { WasmResult } from "proxy-wasm-as";
import { FREE_OWNER, SLOT_SIZE, SlotOutcome, SlotState, SlotUpdate, encodeFreeSlot } from "../bucket-slot";
import { BucketStore, BucketTable, MAX_PROBE, Verdict } from "../bucket-table";
import { BucketParams } from "../token-bucket";

const SECOND: i64 = 1_000_000_000;

class FakeSharedData implements BucketStore {
  values: Array<ArrayBuffer | null>;
  cas: Array<u32>;
  nextCas: u32 = 1;
  /** Slot that another worker writes `competing` to before each of the next `races` CAS writes. */
  raceSlot: i32 = -1;
  races: i32 = 0;
  competing: ArrayBuffer = new ArrayBuffer(0);
  reads: i32 = 0;
  writes: i32 = 0;

  constructor(size: i32, free: ArrayBuffer | null) {
    this.values = new Array<ArrayBuffer | null>(size);
    this.cas = new Array<u32>(size);
    for (let i = 0; i < size; i++) {
      this.values[i] = free === null ? null : free.slice(0);
      this.cas[i] = free === null ? 0 : this.nextCas++;
    }
  }

  read(slot: i32): ArrayBuffer | null {
    this.reads++;
    return this.values[slot];
  }

  /** What updateSharedData does against the host: get, update, set with the CAS; retry on mismatch. */
  update(slot: i32, update: SlotUpdate, maxAttempts: i32): WasmResult {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const current = this.read(slot);
      const seenCas = this.cas[slot];
      const next = update.update(current);
      if (next === null) return WasmResult.Ok;
      if (slot == this.raceSlot && this.races > 0) {
        this.races--;
        this.values[slot] = this.competing.slice(0);
        this.cas[slot] = this.nextCas++;
      }
      if (current !== null && seenCas != this.cas[slot]) continue;
      this.values[slot] = next.slice(0);
      this.cas[slot] = this.nextCas++;
      this.writes++;
      return WasmResult.Ok;
    }
    return WasmResult.CasMismatch;
  }

  state(slot: i32, params: BucketParams): SlotState {
    const s = new SlotState();
    s.decode(this.values[slot], params);
    return s;
  }
}

function slotWith(owner: u64, level: i64, lastNs: i64): ArrayBuffer {
  const s = new SlotState();
  s.owner = owner;
  s.level = level;
  s.lastNs = lastNs;
  return s.encode(new ArrayBuffer(SLOT_SIZE));
}

const THREE = new BucketParams(3, 1, SECOND);
const TWO = new BucketParams(2, 1, SECOND);

describe("SlotUpdate", () => {

  it("reads a missing or malformed slot as a never-used full bucket", () => {
    const s = new SlotState();
    s.decode(null, THREE);
    expect(s.owner).toBe(FREE_OWNER);
    expect(s.level).toBe(THREE.capacity);
    s.decode(new ArrayBuffer(7), THREE);
    expect(s.level).toBe(THREE.capacity);
  });

  it("claims a never-used slot with a full bucket less one token", () => {
    const u = new SlotUpdate(THREE);
    u.reset(42, 5 * SECOND);
    const next = u.update(encodeFreeSlot(THREE));
    expect(next).not.toBeNull();
    expect(u.outcome).toBe(SlotOutcome.Consumed);
    const s = new SlotState();
    s.decode(next, THREE);
    expect(s.owner).toBe(42);
    expect(THREE.tokens(s.level)).toBe(2);
    expect(s.lastNs).toBe(5 * SECOND);
  });

  it("takes tokens from its own bucket and is denied when it is empty, without writing", () => {
    const u = new SlotUpdate(THREE);
    u.reset(42, 10 * SECOND);
    u.update(slotWith(42, THREE.unit, 10 * SECOND));
    expect(u.outcome).toBe(SlotOutcome.Consumed);
    expect(u.level).toBe(0);
    u.reset(42, 10 * SECOND);
    expect(u.update(slotWith(42, THREE.unit - 1, 10 * SECOND))).toBeNull();
    expect(u.outcome).toBe(SlotOutcome.Denied);
  });

  it("refills from the time elapsed since the stored level", () => {
    const u = new SlotUpdate(THREE);
    u.reset(42, 12 * SECOND);
    u.update(slotWith(42, 0, 10 * SECOND));
    expect(u.outcome).toBe(SlotOutcome.Consumed);
    expect(THREE.tokens(u.level)).toBe(1, "two seconds gave two tokens, one was taken");
  });

  it("leaves another descriptor's bucket alone until it is full again", () => {
    const u = new SlotUpdate(THREE);
    u.reset(42, 10 * SECOND);
    expect(u.update(slotWith(7, THREE.capacity - 1, 10 * SECOND))).toBeNull();
    expect(u.outcome).toBe(SlotOutcome.Occupied);
    u.reset(42, 11 * SECOND);
    expect(u.update(slotWith(7, THREE.capacity - 1, 10 * SECOND))).not.toBeNull();
    expect(u.outcome).toBe(SlotOutcome.Consumed, "refilled to full: nothing of owner 7 is lost");
  });

  it("never moves its time back when the clock does", () => {
    const u = new SlotUpdate(THREE);
    u.reset(42, 9 * SECOND);
    const s = new SlotState();
    s.decode(u.update(slotWith(42, THREE.capacity, 10 * SECOND)), THREE);
    expect(s.lastNs).toBe(10 * SECOND);
    expect(THREE.tokens(s.level)).toBe(2);
  });
});

describe("BucketTable", () => {

  it("spends exactly max_tokens from a static bucket, then refills tokens_per_fill per interval", () => {
    const store = new FakeSharedData(1, encodeFreeSlot(TWO));
    const table = new BucketTable(TWO, store, 1, 20);
    expect(table.acquire(1, 0)).toBe(Verdict.Allowed);
    expect(table.acquire(1, 0)).toBe(Verdict.Allowed);
    expect(table.acquire(1, 0)).toBe(Verdict.Denied);
    expect(table.acquire(1, SECOND - 1)).toBe(Verdict.Denied);
    expect(table.acquire(1, SECOND)).toBe(Verdict.Allowed);
    expect(table.acquire(1, SECOND)).toBe(Verdict.Denied);
  });

  it("retries a lost CAS on top of the other worker's write: no token is spent twice", () => {
    const store = new FakeSharedData(1, encodeFreeSlot(TWO));
    const table = new BucketTable(TWO, store, 1, 20);
    // Another worker took one token of the full bucket between our read and our write, twice.
    store.raceSlot = 0;
    store.races = 2;
    store.competing = slotWith(1, TWO.capacity - TWO.unit, 0);
    expect(table.acquire(1, 0)).toBe(Verdict.Allowed);
    expect(store.state(0, TWO).level).toBe(0, "the competitor's token and ours are both gone");
    expect(table.acquire(1, 0)).toBe(Verdict.Denied);
  });

  it("gives up after max attempts and says so", () => {
    const store = new FakeSharedData(1, encodeFreeSlot(TWO));
    const table = new BucketTable(TWO, store, 1, 3);
    store.raceSlot = 0;
    store.races = 3;
    store.competing = encodeFreeSlot(TWO);
    expect(table.acquire(1, 0)).toBe(Verdict.Exhausted);
    expect(store.writes).toBe(0);
  });

  it("keeps descriptors apart and reuses the slots of full buckets", () => {
    const store = new FakeSharedData(4, encodeFreeSlot(TWO));
    const table = new BucketTable(TWO, store, 4, 20);
    // Owners 8 and 12 both start at slot 0 (owner % 4).
    expect(table.acquire(8, 0)).toBe(Verdict.Allowed);
    expect(table.acquire(12, 0)).toBe(Verdict.Allowed);
    expect(store.state(0, TWO).owner).toBe(8);
    expect(store.state(1, TWO).owner).toBe(12);
    expect(table.acquire(12, 0)).toBe(Verdict.Allowed);
    expect(table.acquire(12, 0)).toBe(Verdict.Denied, "12 has its own bucket, empty now");
    expect(table.acquire(8, 0)).toBe(Verdict.Allowed);
    expect(table.acquire(8, 0)).toBe(Verdict.Denied);
    // Once 8's bucket is full again, 16 may take its slot; 12 keeps its own even if slot 0 frees.
    expect(table.acquire(16, 2 * SECOND)).toBe(Verdict.Allowed);
    expect(store.state(0, TWO).owner).toBe(16);
    expect(table.acquire(12, SECOND)).toBe(Verdict.Allowed);
    expect(store.state(1, TWO).owner).toBe(12);
  });

  it("finds its own slot past a reclaimable one (never a second, fresh bucket)", () => {
    const store = new FakeSharedData(4, encodeFreeSlot(TWO));
    store.values[0] = slotWith(99, TWO.capacity, 0); // full: claimable
    store.values[1] = slotWith(8, 0, 0); // 8's empty bucket
    const table = new BucketTable(TWO, store, 4, 20);
    expect(table.acquire(8, 0)).toBe(Verdict.Denied);
    expect(store.state(0, TWO).owner).toBe(99);
  });

  it("reports Overflow when every slot of the window holds a bucket in use", () => {
    const store = new FakeSharedData(MAX_PROBE + 2, encodeFreeSlot(TWO));
    for (let i = 0; i < MAX_PROBE; i++) store.values[i] = slotWith(1000 + i, 0, 0);
    const table = new BucketTable(TWO, store, MAX_PROBE + 2, 20);
    expect(table.probe).toBe(MAX_PROBE);
    expect(table.acquire(<u64>(MAX_PROBE + 2) * 5, 0)).toBe(Verdict.Overflow, "window starts at slot 0");
    const single = new FakeSharedData(1, null);
    single.values[0] = slotWith(5, 0, 0);
    expect(new BucketTable(TWO, single, 1, 20).acquire(6, 0)).toBe(Verdict.Overflow);
  });

  it("creates a missing slot as a never-used one", () => {
    const store = new FakeSharedData(1, null);
    const table = new BucketTable(TWO, store, 1, 20);
    expect(table.acquire(1, 0)).toBe(Verdict.Allowed);
    expect(TWO.tokens(store.state(0, TWO).level)).toBe(1);
  });
});

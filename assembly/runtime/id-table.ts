// Contexts by host id (context ids are never 0). A chained hash table whose chains run through
// the contexts themselves (Context.nextInTable); ids are sequential per VM, so their low bits
// spread them evenly over the buckets. The table is unmanaged memory holding plain pointers, and
// each context is pinned while it is in a table, so the garbage collector keeps it alive without
// the table being traced. This keeps the code small (no shadow-stack spills: the add-header
// example must fit in 8 KiB) and lookups to a few loads. Each table holds one kind of context;
// the typed accessors in context/registry.ts read it back as that kind without a runtime check.
import { Context } from "../context/contexts";

// @ts-ignore: decorator
@unmanaged
export class IdTable {
  private buckets: usize = 0;
  private mask: u32 = 0;
  count: i32 = 0;

  constructor() {
    this.allocate(16);
  }

  private allocate(slots: u32): void {
    const bytes = <usize>slots << alignof<usize>();
    this.buckets = heap.alloc(bytes);
    memory.fill(this.buckets, 0, bytes);
    this.mask = slots - 1;
  }

  // @ts-ignore: decorator
  @inline private bucket(id: u32): usize {
    return this.buckets + (<usize>(id & this.mask) << alignof<usize>());
  }

  /** The context with this id (as a raw pointer), or 0. */
  get(id: u32): usize {
    let p = load<usize>(this.bucket(id));
    while (p != 0 && changetype<Context>(p).contextId != id) p = changetype<Context>(p).nextInTable;
    return p;
  }

  /** Adds a context that is in no table yet, and pins it. */
  add(ctx: Context): void {
    const p = changetype<usize>(ctx);
    __pin(p);
    if (<u32>this.count > this.mask) this.grow();
    this.link(p);
    this.count++;
  }

  /** Removes and unpins the context with this id; false if there is none. */
  delete(id: u32): bool {
    let at = this.bucket(id);
    let p = load<usize>(at);
    while (p != 0 && changetype<Context>(p).contextId != id) {
      at = changetype<usize>(p) + offsetof<Context>("nextInTable");
      p = load<usize>(at);
    }
    if (p == 0) return false;
    store<usize>(at, changetype<Context>(p).nextInTable);
    changetype<Context>(p).nextInTable = 0;
    __unpin(p);
    this.count--;
    return true;
  }

  private link(p: usize): void {
    const at = this.bucket(changetype<Context>(p).contextId);
    changetype<Context>(p).nextInTable = load<usize>(at);
    store<usize>(at, p);
  }

  /** Doubles the buckets so chains stay about one context long. */
  private grow(): void {
    const old = this.buckets;
    const slots = this.mask + 1;
    this.allocate(slots << 1);
    for (let i: u32 = 0; i < slots; i++) {
      let p = load<usize>(old + (<usize>i << alignof<usize>()));
      while (p != 0) {
        const next = changetype<Context>(p).nextInTable;
        this.link(p);
        p = next;
      }
    }
    heap.free(old);
  }
}

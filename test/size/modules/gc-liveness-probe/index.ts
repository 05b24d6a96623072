// Test module for the shadow-stack elision pass (host/optimize/shadow-stack.ts): managed values held
// in every way the pass reasons about — call operands evaluated before later operands allocate,
// locals read after allocating calls (also around loops), reassigned parameters, `this` in methods,
// fields filled one allocation at a time, collections growing — while the collector runs. Built in
// GC stress mode (a collection at nearly every allocation, freed blocks poisoned), any value the
// collector could not see is freed and overwritten before it is read: `run` then returns a
// different checksum than a normal build, or traps.
import "proxy-wasm-as/assembly/runtime/abort";

class Pair {
  left: string = "";
  right: string = "";
  next: Pair | null = null;

  /** Reads `this` after allocating (the parameter rule: the caller protects `this`). */
  joined(separator: string): string {
    const head = this.left + separator;
    const tail = separator + this.right;
    return head + this.right + tail;
  }
}

/** Constructors chained through super(), with fields whose initializers allocate. */
class Named {
  name: string = word(1) + "-named";
  tags: string[] = [word(2), word(3)];
  constructor(public id: i32) {}
}

class Labelled extends Named {
  label: string = "";
  constructor(id: i32) {
    super(id);
    this.label = word(id) + this.name;
  }
}

class Tagged extends Labelled {
  more: string[] = [this.label + "+"];
}

function word(i: i32): string {
  return "w" + i.toString();
}

/** Three operands, each allocated after the ones before it were evaluated. */
function three(a: string, b: string, c: string): string {
  return a + "|" + b + "|" + c;
}

/** A parameter reassigned, then read after more allocation. */
function grow(s: string, times: i32): string {
  for (let i = 0; i < times; i++) s = s + word(i);
  const marker = word(times);
  return s + marker;
}

/** No allocation: the pass drops this function's frame altogether. */
function weight(s: string): i32 {
  let sum = 0;
  for (let i = 0, n = s.length; i < n; i++) sum += s.charCodeAt(i);
  return sum;
}

function hash(h: u32, s: string): u32 {
  for (let i = 0, n = s.length; i < n; i++) h = (h ^ <u32>s.charCodeAt(i)) * 16777619;
  return h;
}

/** A linked list built and read back while everything allocates. */
function chain(n: i32): Pair | null {
  let head: Pair | null = null;
  for (let i = 0; i < n; i++) {
    const p = new Pair();
    p.left = word(i);
    p.right = word(i * 7);
    p.next = head;
    head = p;
  }
  return head;
}

/** Checksum of everything built; the same for every build of this module that is memory-safe. */
export function run(rounds: i32): u32 {
  let h: u32 = 2166136261;
  const kept = new Array<string>();
  const byName = new Map<string, string>();
  for (let r = 0; r < rounds; r++) {
    const a = word(r);
    const w = weight(a);
    // `a` is read after `three` (which allocates) and after `word` calls in its operands.
    h = hash(h, three(word(r + 1), a, word(w)));
    h = hash(h, grow(a, 3));
    let p = chain(5);
    while (p !== null) {
      h = hash(h, p.joined(word(r)));
      p = p.next;
    }
    const t = new Tagged(r);
    h = hash(h, t.name + t.label + t.tags.join(",") + t.more[0]);
    kept.push(a + "!");
    byName.set(word(r), a + "?");
    h = hash(h, a);
  }
  for (let i = 0; i < kept.length; i++) h = hash(h, kept[i]);
  const names = byName.keys();
  for (let i = 0; i < names.length; i++) h = hash(h, byName.get(names[i]));
  return h;
}

// Regular expressions with RE2's syntax and semantics (Envoy's `safe_regex` is RE2) for the subset
// route and header patterns use: literals, `.`, classes `[a-z_]` `[^/]` with ranges, `\d \w \s`
// and their negations, anchors `^ $ \A \z`, repetition `* + ? {n} {n,} {n,m}` (lazy forms are
// accepted: only whether the text matches is computed), alternation and groups `(...)`,
// `(?:...)`, `(?P<name>...)`. Everything else RE2 or Perl would read differently — backreferences,
// lookaround, flags like `(?i)`, `\b`, `\p{..}`, POSIX classes, non-ASCII inside a class — is
// rejected when compiling, with the offset where it occurs, never reinterpreted.
//
// Matching runs a Thompson NFA over the UTF-8 bytes of the text (the bytes a header or :path has
// on the wire): time is linear in the text for a given pattern, there is no backtracking and no
// recursion, and the work lists are allocated once per compiled pattern, so matching allocates
// nothing. As in RE2, `.` and negated classes consume a whole UTF-8 character (`.` never `\n`),
// `^`/`$` match only at the start/end of the text (no multi-line mode), and a malformed UTF-8
// byte is matched only by a literal byte escape. Pure code: no host imports.
//
// The parser emits the program directly, without a syntax tree: jump targets are relative, so a
// fragment (an atom, a group, a branch) can be cut off the end of the program and emitted again
// wrapped in the instructions of a repetition or alternation.

/** RE2's limit on a counted repetition. */
export const REGEX_MAX_REPEAT: i32 = 1000;
/** Largest compiled program (instructions); bigger patterns are rejected, not truncated. */
export const REGEX_MAX_PROGRAM: i32 = 10000;
/** Deepest group nesting accepted. */
export const REGEX_MAX_DEPTH: i32 = 100;

// Instructions: BYTE consumes one byte in byte set `x`; SPLIT continues at both `x` and `y`.
const OP_BYTE: i32 = 0;
const OP_SPLIT: i32 = 1;
const OP_JMP: i32 = 2;
const OP_BEGIN: i32 = 3;
const OP_END: i32 = 4;
const OP_MATCH: i32 = 5;

/** Marks an escape that stands for a class (\d \w \s and negations), left in Parser.ascii. */
const ESC_CLASS: i32 = -2;

function hexDigitValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

function isWordChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c == 0x5f;
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  errorAt: i32 = 0;
  /** op, x, y per instruction; SPLIT/JMP targets relative to their instruction. */
  code: i32[] = [];
  /** 256-bit byte sets, 8 words each, deduplicated. */
  sets: u32[] = [];
  /** The ASCII part of the class being parsed, and whether it takes every non-ASCII character. */
  ascii: StaticArray<u32> = new StaticArray<u32>(4);
  nonAscii: bool = false;
  private continuation: i32 = -1;

  constructor(public pattern: string) {}

  fail(message: string, at: i32): bool {
    if (this.error.length == 0) {
      this.error = message;
      this.errorAt = at;
    }
    return false;
  }

  peek(offset: i32 = 0): i32 {
    const at = this.pos + offset;
    return at < this.pattern.length ? this.pattern.charCodeAt(at) : -1;
  }

  startsWith(text: string): bool {
    return this.pattern.substr(this.pos, text.length) == text;
  }

  get pc(): i32 {
    return this.code.length / 3;
  }

  emit(op: i32, x: i32 = 0, y: i32 = 0): void {
    const code = this.code;
    code.push(op);
    code.push(x);
    code.push(y);
  }

  /** Cuts the program from instruction `start` to the end off, returning it. */
  take(start: i32): i32[] {
    const fragment = this.code.slice(start * 3);
    this.code.length = start * 3;
    return fragment;
  }

  append(fragment: i32[]): void {
    const code = this.code;
    for (let i = 0, n = fragment.length; i < n; i++) code.push(unchecked(fragment[i]));
  }

  patch(at: i32, field: i32, target: i32): void {
    unchecked((this.code[at * 3 + field] = target - at));
  }

  // ---- byte sets ----

  /** Emits BYTE for the set in `bits` (8 words), reusing an equal set. */
  emitSet(bits: StaticArray<u32>): void {
    const sets = this.sets;
    const count = sets.length >> 3;
    let index = 0;
    for (; index < count; index++) {
      let w = 0;
      while (w < 8 && unchecked(sets[(index << 3) + w]) == unchecked(bits[w])) w++;
      if (w == 8) break;
    }
    if (index == count) for (let w = 0; w < 8; w++) sets.push(unchecked(bits[w]));
    this.emit(OP_BYTE, index);
  }

  emitRange(lo: i32, hi: i32): void {
    const bits = new StaticArray<u32>(8);
    for (let b = lo; b <= hi; b++) unchecked((bits[b >> 5] |= 1 << (b & 31)));
    this.emitSet(bits);
  }

  emitContinuation(): void {
    if (this.continuation < 0) {
      this.emitRange(0x80, 0xbf);
      this.continuation = unchecked(this.code[this.code.length - 2]);
    } else {
      this.emit(OP_BYTE, this.continuation);
    }
  }

  /** Any well-formed-looking UTF-8 sequence of 2 to 4 bytes (one non-ASCII character): 13 instructions. */
  emitMultibyte(): void {
    this.emit(OP_SPLIT, 1, 4);
    this.emitRange(0xc2, 0xdf);
    this.emitContinuation();
    this.emit(OP_JMP, 10);
    this.emit(OP_SPLIT, 1, 5);
    this.emitRange(0xe0, 0xef);
    this.emitContinuation();
    this.emitContinuation();
    this.emit(OP_JMP, 5);
    this.emitRange(0xf0, 0xf4);
    for (let i = 0; i < 3; i++) this.emitContinuation();
  }

  /** The class in `ascii`/`nonAscii`: one BYTE, or BYTE | any non-ASCII character. */
  emitClass(): void {
    const bits = new StaticArray<u32>(8);
    for (let w = 0; w < 4; w++) unchecked((bits[w] = this.ascii[w]));
    if (!this.nonAscii) {
      this.emitSet(bits);
      return;
    }
    this.emit(OP_SPLIT, 1, 3);
    this.emitSet(bits);
    this.emit(OP_JMP, 14);
    this.emitMultibyte();
  }

  clearClass(): void {
    for (let w = 0; w < 4; w++) unchecked((this.ascii[w] = 0));
    this.nonAscii = false;
  }

  addRange(lo: i32, hi: i32): void {
    for (let c = lo; c <= hi; c++) unchecked((this.ascii[c >> 5] |= 1 << (c & 31)));
  }

  negateClass(): void {
    for (let w = 0; w < 4; w++) unchecked((this.ascii[w] = ~this.ascii[w]));
    this.nonAscii = !this.nonAscii;
  }

  /**
   * Adds RE2's Perl class for `letter` (\d [0-9], \s [\t\n\f\r ], \w [0-9A-Za-z_]; upper case
   * negates) to the class being built; false if `letter` names none.
   */
  addPerlClass(letter: i32): bool {
    const lower = letter | 0x20;
    if (lower != 0x64 && lower != 0x73 && lower != 0x77) return false;
    const saved = new StaticArray<u32>(4);
    for (let w = 0; w < 4; w++) unchecked((saved[w] = this.ascii[w]));
    const savedNonAscii = this.nonAscii;
    this.clearClass();
    for (let c = 0; c < 128; c++) {
      const member = lower == 0x64 ? c >= 0x30 && c <= 0x39 : lower == 0x77 ? isWordChar(c) : c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0c || c == 0x0d;
      if (member) this.addRange(c, c);
    }
    if (letter != lower) this.negateClass();
    for (let w = 0; w < 4; w++) unchecked((this.ascii[w] |= saved[w]));
    this.nonAscii = this.nonAscii || savedNonAscii;
    return true;
  }

  /** A literal character: its UTF-8 bytes in sequence. */
  emitLiteral(cp: i32): void {
    if (cp < 0x80) {
      this.emitRange(cp, cp);
      return;
    }
    const n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    const lead = n == 2 ? 0xc0 : n == 3 ? 0xe0 : 0xf0;
    const first = lead | (cp >> (6 * (n - 1)));
    this.emitRange(first, first);
    for (let i = n - 2; i >= 0; i--) {
      const b = 0x80 | ((cp >> (6 * i)) & 0x3f);
      this.emitRange(b, b);
    }
  }

  // ---- grammar ----

  /** alternation := concat ('|' concat)*: SPLIT chains, every branch but the last jumping to the end. */
  parseAlternation(depth: i32): bool {
    if (depth > REGEX_MAX_DEPTH) return this.fail("groups nested deeper than " + REGEX_MAX_DEPTH.toString(), this.pos);
    const start = this.pc;
    if (!this.parseConcat(depth)) return false;
    if (this.peek() != 0x7c) return true;
    const branches = new Array<i32[]>();
    branches.push(this.take(start));
    while (this.peek() == 0x7c) {
      this.pos++;
      if (!this.parseConcat(depth)) return false;
      branches.push(this.take(start));
    }
    const jumps = new Array<i32>();
    const last = branches.length - 1;
    for (let i = 0; i < last; i++) {
      const split = this.pc;
      this.emit(OP_SPLIT, 1);
      this.append(unchecked(branches[i]));
      jumps.push(this.pc);
      this.emit(OP_JMP);
      this.patch(split, 2, this.pc);
    }
    this.append(unchecked(branches[last]));
    for (let i = 0; i < jumps.length; i++) this.patch(unchecked(jumps[i]), 1, this.pc);
    return true;
  }

  /** concat := (atom quantifier?)* up to '|' or ')' */
  parseConcat(depth: i32): bool {
    while (this.pos < this.pattern.length) {
      const c = this.peek();
      if (c == 0x7c || c == 0x29) break;
      if (this.isQuantifierAt()) return this.fail("missing argument to repetition operator " + String.fromCharCode(c), this.pos);
      const start = this.pc;
      if (!this.parseAtom(depth) || !this.parseQuantifier(start)) return false;
    }
    return true;
  }

  /** Offset just past a well-formed `{n}`, `{n,}` or `{n,m}` at pos, else 0 (RE2 reads `{` literally then). */
  repeatEnd(): i32 {
    const p = this.pattern;
    let i = this.pos + 1;
    const from = i;
    while (i < p.length && p.charCodeAt(i) >= 0x30 && p.charCodeAt(i) <= 0x39) i++;
    if (i == from || i >= p.length) return 0;
    if (p.charCodeAt(i) == 0x2c) {
      i++;
      while (i < p.length && p.charCodeAt(i) >= 0x30 && p.charCodeAt(i) <= 0x39) i++;
    }
    return i < p.length && p.charCodeAt(i) == 0x7d ? i + 1 : 0;
  }

  /** A decimal at `from` (up to a non-digit); above the cap reads as cap + 1. */
  readCount(from: i32): i32 {
    let n = 0;
    for (let i = from; i < this.pattern.length; i++) {
      const c = this.pattern.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      n = min(n * 10 + (c - 0x30), REGEX_MAX_REPEAT + 1);
    }
    return n;
  }

  isQuantifierAt(): bool {
    const c = this.peek();
    return c == 0x2a || c == 0x2b || c == 0x3f || (c == 0x7b && this.repeatEnd() > 0);
  }

  /** Applies a quantifier at pos, if any, to the fragment emitted since instruction `start`. */
  parseQuantifier(start: i32): bool {
    if (!this.isQuantifierAt()) return true;
    const at = this.pos;
    const c = this.peek();
    let lo = c == 0x2b ? 1 : 0;
    let hi = c == 0x3f ? 1 : -1;
    if (c == 0x7b) {
      const end = this.repeatEnd();
      lo = this.readCount(this.pos + 1);
      const comma = this.pattern.indexOf(",", this.pos);
      hi = comma < 0 || comma >= end ? lo : comma + 2 == end ? -1 : this.readCount(comma + 1);
      if (lo > REGEX_MAX_REPEAT || hi > REGEX_MAX_REPEAT) return this.fail("bad repetition operator: count above " + REGEX_MAX_REPEAT.toString(), at);
      if (hi >= 0 && hi < lo) return this.fail("bad repetition operator: {n,m} with m < n", at);
      this.pos = end;
    } else {
      this.pos++;
    }
    if (this.peek() == 0x3f) this.pos++; // lazy: the same language
    if (this.isQuantifierAt()) return this.fail("bad repetition operator: " + this.pattern.substring(at, this.pos + 1), at);
    return this.repeat(start, lo, hi);
  }

  /** `lo` copies of the fragment, then a loop (hi = -1) or hi-lo optional copies. */
  repeat(start: i32, lo: i32, hi: i32): bool {
    const fragment = this.take(start);
    const size = fragment.length / 3;
    const copies = hi < 0 ? lo + 1 : hi;
    if (<i64>start + <i64>(size + 2) * <i64>copies > <i64>REGEX_MAX_PROGRAM) {
      return this.fail("pattern too large (more than " + REGEX_MAX_PROGRAM.toString() + " instructions)", this.pos);
    }
    for (let i = 0; i < lo; i++) this.append(fragment);
    if (hi < 0) {
      const loop = this.pc;
      this.emit(OP_SPLIT, 1);
      this.append(fragment);
      this.emit(OP_JMP, loop - this.pc);
      this.patch(loop, 2, this.pc);
      return true;
    }
    const skips = new Array<i32>();
    for (let i = lo; i < hi; i++) {
      skips.push(this.pc);
      this.emit(OP_SPLIT, 1);
      this.append(fragment);
    }
    for (let i = 0; i < skips.length; i++) this.patch(unchecked(skips[i]), 2, this.pc);
    return true;
  }

  parseAtom(depth: i32): bool {
    const c = this.peek();
    if (c == 0x28) return this.parseGroup(depth);
    if (c == 0x5b) return this.parseClass();
    this.pos++;
    if (c == 0x2e) {
      this.clearClass();
      this.negateClass();
      unchecked((this.ascii[0] &= ~(1 << 0x0a)));
      this.emitClass();
    } else if (c == 0x5e) this.emit(OP_BEGIN);
    else if (c == 0x24) this.emit(OP_END);
    else {
      this.pos--;
      const cp = c == 0x5c ? this.parseEscape(false) : this.readCodePoint();
      if (cp == -1) return false;
      if (cp == ESC_CLASS) this.emitClass();
      else if (cp == OP_BEGIN + 0x110000 || cp == OP_END + 0x110000) this.emit(cp - 0x110000);
      else this.emitLiteral(cp);
    }
    return true;
  }

  /** The code point at pos (joining a surrogate pair), advancing past it; -1 on a lone surrogate. */
  readCodePoint(): i32 {
    const c = this.peek();
    const d = this.peek(1);
    if (c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
      this.pos += 2;
      return 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      this.fail("invalid UTF-16 (lone surrogate)", this.pos);
      return -1;
    }
    this.pos++;
    return c;
  }

  parseGroup(depth: i32): bool {
    const start = this.pos;
    this.pos++;
    if (this.peek() == 0x3f) {
      if (this.startsWith("?:")) {
        this.pos += 2;
      } else if (this.startsWith("?=") || this.startsWith("?!") || this.startsWith("?<=") || this.startsWith("?<!")) {
        return this.fail("lookaround (?=, ?!, ?<=, ?<!) is not supported", start);
      } else if (this.startsWith("?P<") || this.startsWith("?<")) {
        this.pos += this.peek(1) == 0x50 ? 3 : 2;
        const name = this.pos;
        while (isWordChar(this.peek())) this.pos++;
        if (this.pos == name || this.peek() != 0x3e) return this.fail("invalid named group", start);
        this.pos++;
      } else {
        return this.fail("flags and other (?...) groups are not supported", start);
      }
    }
    if (!this.parseAlternation(depth + 1)) return false;
    if (this.peek() != 0x29) return this.fail("missing closing )", start);
    this.pos++;
    return true;
  }

  /**
   * An escape at pos: a code point, ESC_CLASS (the class added to `ascii`, which the caller
   * cleared), BEGIN/END + 0x110000 for \A and \z outside classes, or -1 after failing.
   */
  parseEscape(inClass: bool): i32 {
    const start = this.pos;
    const e = this.peek(1);
    this.pos += 2;
    if (e < 0) {
      this.fail("trailing backslash", start);
      return -1;
    }
    if (!inClass) this.clearClass();
    if (this.addPerlClass(e)) return ESC_CLASS;
    if (!inClass && (e == 0x41 || e == 0x7a)) return (e == 0x41 ? OP_BEGIN : OP_END) + 0x110000;
    const controls = "t\tn\nr\rf\x0Cv\x0Ba\x07";
    for (let i = 0; i < controls.length; i += 2) if (controls.charCodeAt(i) == e) return controls.charCodeAt(i + 1);
    if (e == 0x78) return this.parseHexEscape(start);
    let problem = "invalid escape";
    if (e >= 0x30 && e <= 0x39) problem = "backreferences and octal escapes are not supported";
    else if ((e | 0x20) == 0x62) problem = inClass ? "\\b is not supported in a class" : "word boundaries \\b and \\B are not supported";
    else if ((e | 0x20) == 0x70) problem = "Unicode classes \\p and \\P are not supported";
    else if (e < 0x80 && !isWordChar(e)) return e; // escaped punctuation is literal
    this.fail(problem + ": \\" + String.fromCharCode(e), start);
    return -1;
  }

  /** \xHH or \x{H...}, pos just past "\x". */
  parseHexEscape(start: i32): i32 {
    let value = 0;
    const braced = this.peek() == 0x7b;
    if (braced) this.pos++;
    let digits = 0;
    while (hexDigitValue(this.peek()) >= 0 && value <= 0x10ffff && (braced || digits < 2)) {
      value = value * 16 + hexDigitValue(this.peek());
      this.pos++;
      digits++;
    }
    const closed = !braced || this.peek() == 0x7d;
    if (braced) this.pos++;
    if (digits == 0 || (!braced && digits < 2) || value > 0x10ffff || !closed) {
      this.fail("invalid \\x escape", start);
      return -1;
    }
    return value;
  }

  /** One class member at pos: a code point, ESC_CLASS (merged into `ascii`), or -1 on error. */
  parseClassMember(): i32 {
    const at = this.pos;
    const cp = this.peek() == 0x5c ? this.parseEscape(true) : this.readCodePoint();
    if (cp < 0x80) return cp;
    this.fail("non-ASCII characters in a character class are not supported", at);
    return -1;
  }

  parseClass(): bool {
    const start = this.pos;
    this.pos++;
    this.clearClass();
    const negated = this.peek() == 0x5e;
    if (negated) this.pos++;
    let first = true;
    while (true) {
      const c = this.peek();
      if (c < 0) return this.fail("missing closing ]", start);
      if (c == 0x5d && !first) break;
      first = false;
      if (c == 0x5b && this.peek(1) == 0x3a) return this.fail("POSIX classes [:name:] are not supported (escape the [)", this.pos);
      const at = this.pos;
      const lo = this.parseClassMember();
      if (lo == -1) return false;
      if (lo == ESC_CLASS) continue;
      let hi = lo;
      if (this.peek() == 0x2d && this.peek(1) != 0x5d && this.peek(1) >= 0) {
        this.pos++;
        hi = this.parseClassMember();
        if (hi == -1) return false;
        if (hi == ESC_CLASS || hi < lo) return this.fail("invalid character class range", at);
      }
      this.addRange(lo, hi);
    }
    this.pos++;
    if (negated) this.negateClass();
    this.emitClass();
    return true;
  }
}

/** A set of program counters with O(1) insert, membership and clear (Briggs & Torczon). */
class PcSet {
  dense: StaticArray<i32>;
  sparse: StaticArray<i32>;
  size: i32 = 0;
  constructor(capacity: i32) {
    this.dense = new StaticArray<i32>(capacity);
    this.sparse = new StaticArray<i32>(capacity);
  }
}

export class Regex {
  private current: PcSet;
  private next: PcSet;
  private stack: StaticArray<i32>;
  private sawMatch: bool = false;

  /** `code`: op, absolute x, absolute y per instruction; `sets`: 8 words per byte set. */
  constructor(private readonly code: StaticArray<i32>, private readonly sets: StaticArray<u32>) {
    const n = code.length / 3;
    this.current = new PcSet(n);
    this.next = new PcSet(n);
    this.stack = new StaticArray<i32>(2 * n + 2);
  }

  /** Number of instructions of the compiled program (for tests and limits). */
  get programSize(): i32 {
    return this.code.length / 3;
  }

  /** RE2::FullMatch on the bytes [ptr, ptr+len): the whole text matches. */
  fullMatchRaw(ptr: usize, len: i32): bool {
    return this.run(ptr, len, true);
  }

  /** RE2::PartialMatch on the bytes [ptr, ptr+len): some substring matches. */
  partialMatchRaw(ptr: usize, len: i32): bool {
    return this.run(ptr, len, false);
  }

  fullMatch(bytes: ArrayBuffer): bool {
    return this.run(changetype<usize>(bytes), bytes.byteLength, true);
  }

  partialMatch(bytes: ArrayBuffer): bool {
    return this.run(changetype<usize>(bytes), bytes.byteLength, false);
  }

  /** Matches the UTF-8 encoding of `text` (allocates it; prefer the byte forms per request). */
  fullMatchString(text: string): bool {
    return this.fullMatch(String.UTF8.encode(text));
  }

  partialMatchString(text: string): bool {
    return this.partialMatch(String.UTF8.encode(text));
  }

  /** Adds `start` and everything reachable from it without consuming a byte at offset `at`. */
  private addThread(list: PcSet, start: i32, at: i32, len: i32): void {
    const stack = this.stack;
    const code = this.code;
    const dense = list.dense;
    const sparse = list.sparse;
    let top = 0;
    unchecked((stack[top++] = start));
    while (top > 0) {
      const pc = unchecked(stack[--top]);
      const slot = unchecked(sparse[pc]);
      if (slot < list.size && unchecked(dense[slot]) == pc) continue;
      unchecked((sparse[pc] = list.size));
      unchecked((dense[list.size++] = pc));
      const op = unchecked(code[pc * 3]);
      if (op == OP_JMP) unchecked((stack[top++] = code[pc * 3 + 1]));
      else if (op == OP_SPLIT) {
        unchecked((stack[top++] = code[pc * 3 + 2]));
        unchecked((stack[top++] = code[pc * 3 + 1]));
      } else if ((op == OP_BEGIN && at == 0) || (op == OP_END && at == len)) unchecked((stack[top++] = pc + 1));
      else if (op == OP_MATCH) this.sawMatch = true;
    }
  }

  private run(ptr: usize, len: i32, anchored: bool): bool {
    let list = this.current;
    let other = this.next;
    const code = this.code;
    list.size = 0;
    this.sawMatch = false;
    this.addThread(list, 0, 0, len);
    for (let i = 0; i < len; i++) {
      if (anchored ? list.size == 0 : this.sawMatch) return !anchored;
      const b = <u32>load<u8>(ptr + <usize>i);
      other.size = 0;
      this.sawMatch = false;
      for (let j = 0; j < list.size; j++) {
        const pc = unchecked(list.dense[j]);
        if (unchecked(code[pc * 3]) != OP_BYTE) continue;
        const word = unchecked(this.sets[(code[pc * 3 + 1] << 3) + <i32>(b >> 5)]);
        if ((word >> (b & 31)) & 1) this.addThread(other, pc + 1, i + 1, len);
      }
      if (!anchored) this.addThread(other, 0, i + 1, len);
      const t = list;
      list = other;
      other = t;
    }
    return this.sawMatch;
  }
}

/** Outcome of compileRegex: the regex, or an error and the pattern offset (UTF-16 units) where it is. */
export class RegexCompileResult {
  regex: Regex | null = null;
  error: string = "";
  offset: i32 = 0;

  get ok(): bool {
    return this.regex !== null;
  }

  /** "<error> at offset N", or "" on success. */
  describe(): string {
    return this.regex !== null ? "" : this.error + " at offset " + this.offset.toString();
  }
}

/** Compiles an RE2-syntax pattern (see the file comment for the accepted subset). Never aborts. */
export function compileRegex(pattern: string): RegexCompileResult {
  const result = new RegexCompileResult();
  const parser = new Parser(pattern);
  if (parser.parseAlternation(0) && parser.pos < pattern.length) parser.fail("unexpected )", parser.pos);
  if (parser.error.length != 0) {
    result.error = parser.error;
    result.offset = parser.errorAt;
    return result;
  }
  parser.emit(OP_MATCH);
  const code = StaticArray.fromArray<i32>(parser.code);
  // Relative jump targets become absolute.
  for (let pc = 0, n = code.length / 3; pc < n; pc++) {
    const op = unchecked(code[pc * 3]);
    if (op == OP_JMP || op == OP_SPLIT) {
      unchecked((code[pc * 3 + 1] += pc));
      unchecked((code[pc * 3 + 2] += pc));
    }
  }
  result.regex = new Regex(code, StaticArray.fromArray<u32>(parser.sets));
  return result;
}

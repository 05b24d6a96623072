// Strings that match a JSON-schema `pattern`, for the schema-driven config generator: the pattern
// is parsed (literals, escapes, classes, groups, alternation, quantifiers, anchors) and walked with
// random choices. Lookarounds generate nothing, so a result is checked against the real RegExp by
// the caller. Repetitions are kept short: the point is a plausible value, not coverage of the regex.
import type { Prng } from "./prng.js";

type Node =
  | { kind: "chars"; set: string[]; negated: boolean }
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; options: Node[] }
  | { kind: "repeat"; node: Node; min: number; max: number }
  | { kind: "empty" };

const printable = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i));
const digits = [..."0123456789"];
const word = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"];
const space = [" ", "\t", "\n", "\r", "\v", "\f"];

function range(from: string, to: string): string[] {
  const out: string[] = [];
  for (let c = from.codePointAt(0)!; c <= to.codePointAt(0)! && out.length < 512; c++) out.push(String.fromCodePoint(c));
  return out;
}

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parse(): Node {
    const n = this.alternation();
    if (this.pos < this.src.length) throw new Error(`unexpected ${this.src[this.pos]} at ${this.pos}`);
    return n;
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.src[this.pos] === "|") {
      this.pos++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0]! : { kind: "alt", options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== "|" && this.src[this.pos] !== ")") items.push(this.quantified(this.atom()));
    return { kind: "seq", items };
  }

  private quantified(node: Node): Node {
    const c = this.src[this.pos];
    let min = 1;
    let max = 1;
    if (c === "?") (min = 0), (max = 1);
    else if (c === "*") (min = 0), (max = 3);
    else if (c === "+") (min = 1), (max = 3);
    else if (c === "{" && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.pos))) {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos))!;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] ? Number(m[3]) : min + 3;
      this.pos += m[0].length - 1;
    } else return node;
    this.pos++;
    if (this.src[this.pos] === "?") this.pos++; // lazy: same strings
    return { kind: "repeat", node, min, max: Math.min(max, min + 3) };
  }

  private atom(): Node {
    const c = this.src[this.pos++]!;
    if (c === "^" || c === "$") return { kind: "empty" };
    if (c === ".") return { kind: "chars", set: printable, negated: false };
    if (c === "[") return this.charClass();
    if (c === "\\") return this.escape();
    if (c === "(") {
      let lookaround = false;
      if (this.src.startsWith("?:", this.pos)) this.pos += 2;
      else if (/^\?<?[=!]/.test(this.src.slice(this.pos))) {
        lookaround = true;
        this.pos += this.src[this.pos + 1] === "<" ? 3 : 2;
      } else if (/^\?<[A-Za-z]/.test(this.src.slice(this.pos)) || this.src.startsWith("?P<", this.pos)) this.pos = this.src.indexOf(">", this.pos) + 1;
      const inner = this.alternation();
      if (this.src[this.pos++] !== ")") throw new Error("unclosed group");
      return lookaround ? { kind: "empty" } : inner;
    }
    return { kind: "chars", set: [c], negated: false };
  }

  private escapeChars(): string[] {
    const e = this.src[this.pos++]!;
    if (e === "d") return digits;
    if (e === "w") return word;
    if (e === "s") return space;
    if (e === "u" && /^[0-9a-fA-F]{4}/.test(this.src.slice(this.pos))) {
      const ch = String.fromCharCode(parseInt(this.src.slice(this.pos, this.pos + 4), 16));
      this.pos += 4;
      return [ch];
    }
    if (e === "x" && /^[0-9a-fA-F]{2}/.test(this.src.slice(this.pos))) {
      const ch = String.fromCharCode(parseInt(this.src.slice(this.pos, this.pos + 2), 16));
      this.pos += 2;
      return [ch];
    }
    const named: Record<string, string> = { t: "\t", n: "\n", r: "\r", v: "\v", f: "\f" };
    return [named[e] ?? e];
  }

  private escape(): Node {
    const e = this.src[this.pos];
    if (e === "D" || e === "W" || e === "S") {
      this.pos++;
      return { kind: "chars", set: e === "D" ? digits : e === "W" ? word : space, negated: true };
    }
    if (e === "b" || e === "B") {
      this.pos++;
      return { kind: "empty" };
    }
    return { kind: "chars", set: this.escapeChars(), negated: false };
  }

  private charClass(): Node {
    const negated = this.src[this.pos] === "^";
    if (negated) this.pos++;
    const set: string[] = [];
    let first = true;
    while (this.pos < this.src.length && (this.src[this.pos] !== "]" || first)) {
      first = false;
      let from: string[];
      if (this.src[this.pos] === "\\") {
        this.pos++;
        from = this.escapeChars();
      } else from = [this.src[this.pos++]!];
      if (from.length === 1 && this.src[this.pos] === "-" && this.src[this.pos + 1] !== "]" && this.pos + 1 < this.src.length) {
        this.pos++;
        const to = this.src[this.pos] === "\\" ? (this.pos++, this.escapeChars()) : [this.src[this.pos++]!];
        set.push(...range(from[0]!, to[0]!));
      } else set.push(...from);
    }
    this.pos++; // ]
    return { kind: "chars", set, negated };
  }
}

function emit(rng: Prng, n: Node): string {
  switch (n.kind) {
    case "empty":
      return "";
    case "chars": {
      if (!n.negated) return n.set.length ? rng.pick(n.set) : "";
      const excluded = new Set(n.set);
      const allowed = printable.filter((c) => !excluded.has(c));
      return allowed.length ? rng.pick(allowed) : "";
    }
    case "seq":
      return n.items.map((i) => emit(rng, i)).join("");
    case "alt":
      return emit(rng, rng.pick(n.options));
    case "repeat": {
      let s = "";
      for (let i = rng.range(n.min, n.max); i > 0; i--) s += emit(rng, n.node);
      return s;
    }
  }
}

const parsed = new Map<string, Node | null>();

/** A string generated from `pattern`, or null when the pattern uses syntax this generator lacks. */
export function stringFromPattern(rng: Prng, pattern: string): string | null {
  if (!parsed.has(pattern)) {
    let node: Node | null = null;
    try {
      node = new Parser(pattern).parse();
    } catch {
      node = null;
    }
    parsed.set(pattern, node);
  }
  const node = parsed.get(pattern);
  return node ? emit(rng, node) : null;
}

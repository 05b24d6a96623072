// The SDK matchers the filter uses for path_regex and trusted CIDRs, run from the compiled
// regex-probe test module and compared with independent implementations on generated inputs:
// JavaScript's RegExp (same semantics as RE2 on the generated subset and alphabet) and node:net's
// BlockList.
import assert from "node:assert/strict";
import { BlockList, isIPv6 } from "node:net";
import { before, describe, test } from "node:test";
import { moduleBytes } from "../../support/modules.js";

interface Probe {
  memory: WebAssembly.Memory;
  _initialize(): void;
  scratch(size: number): number;
  compile(len: number): number;
  errorText(): number;
  programSize(): number;
  fullMatch(len: number): number;
  partialMatch(len: number): number;
  resetRanges(): void;
  addRange(len: number): number;
  inRanges(len: number): number;
}

let probe: Probe;

function put(text: string): number {
  const bytes = Buffer.from(text, "utf8");
  const at = probe.scratch(bytes.length);
  new Uint8Array(probe.memory.buffer, at, bytes.length).set(bytes);
  return bytes.length;
}

function compile(pattern: string): string | null {
  if (probe.compile(put(pattern))) return null;
  const n = probe.errorText();
  return Buffer.from(new Uint8Array(probe.memory.buffer, probe.scratch(0), n)).toString("utf8");
}

/** A deterministic generator (tests must not depend on the run). */
function generator(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

before(async () => {
  const logged: string[] = [];
  const module = await WebAssembly.compile(await moduleBytes("regex-probe"));
  const instance = new WebAssembly.Instance(module, {
    env: {
      proxy_log: (_level: number, ptr: number, len: number) => {
        logged.push(Buffer.from(new Uint8Array(probe.memory.buffer, ptr, len)).toString());
        return 0;
      },
    },
  });
  probe = instance.exports as unknown as Probe;
  probe._initialize();
});

describe("regex (SDK match/regex.ts)", () => {
  test("agrees with RegExp on 1500 generated patterns × 30 texts, full and partial match", () => {
    const rnd = generator(20240101);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
    const atoms = ["a", "b", "/", "-", "é", ".", "[ab]", "[^a]", "[a-c/]", "\\d", "\\w", "\\s", "\\W", "\\.", "x", "[^\\d]", "😀"];
    const gen = (depth: number): string => {
      const r = rnd();
      if (depth > 3 || r < 0.3) return pick(atoms);
      if (r < 0.45) return gen(depth + 1) + gen(depth + 1);
      if (r < 0.55) return `(${gen(depth + 1)}|${gen(depth + 1)})`;
      if (r < 0.62) return `(?:${gen(depth + 1)})${pick(["*", "+", "?", "{2}", "{1,3}", "{0,}", "*?"])}`;
      if (r < 0.7) return pick(["^", "$", ""]) + gen(depth + 1) + pick(["$", "", "^"]);
      return `(${gen(depth + 1)})${pick(["*", "+", "?", "{2}", "{1,2}", "{0,2}", "{2,}"])}`;
    };
    // No \r, \v or non-BMP-breaking input: where RegExp and RE2 differ (RegExp's . excludes \r).
    const alphabet = ["a", "b", "/", "-", "é", "x", "1", " ", "\n", ".", "😀"];
    let checked = 0;
    for (let i = 0; i < 1500; i++) {
      const pattern = gen(0);
      assert.equal(compile(pattern), null, pattern);
      const fullRe = new RegExp(`^(?:${pattern})$`, "u");
      const partialRe = new RegExp(pattern, "u");
      for (let k = 0; k < 30; k++) {
        let text = "";
        for (let j = Math.floor(rnd() * 8); j > 0; j--) text += pick(alphabet);
        const len = put(text);
        assert.equal(probe.fullMatch(len) === 1, fullRe.test(text), `full ${JSON.stringify(pattern)} on ${JSON.stringify(text)}`);
        assert.equal(probe.partialMatch(len) === 1, partialRe.test(text), `partial ${JSON.stringify(pattern)} on ${JSON.stringify(text)}`);
        checked++;
      }
    }
    assert.equal(checked, 45_000);
  });

  test("keeps the program linear in the pattern where backtracking engines explode", () => {
    assert.equal(compile("(a*)*(a|aa)*b"), null);
    assert.ok(probe.programSize() < 40, `program of ${probe.programSize()} instructions`);
    assert.equal(probe.fullMatch(put("a".repeat(5000) + "c")), 0);
    assert.equal(compile("(x+x+)+y"), null);
    assert.equal(probe.partialMatch(put("x".repeat(5000))), 0);
  });
});

describe("CIDR ranges (SDK match/cidr.ts)", () => {
  test("agree with node:net BlockList on generated ranges and addresses", () => {
    const rnd = generator(7);
    const byte = () => Math.floor(rnd() * 256);
    const v4 = () => {
      // Mostly near 10.x to hit range edges, sometimes anywhere.
      return rnd() < 0.7 ? `10.${byte() & 0x0f}.${byte()}.${byte()}` : `${byte()}.${byte()}.${byte()}.${byte()}`;
    };
    const v6 = () => {
      const groups = Array.from({ length: 8 }, (_, i) => (i < 2 ? ["fd00", "fd01", "2001"][Math.floor(rnd() * 3)]! : (Math.floor(rnd() * 0x10000)).toString(16)));
      if (rnd() < 0.3) groups.fill("0", 3, 6);
      return groups.join(":");
    };
    for (let round = 0; round < 40; round++) {
      probe.resetRanges();
      const list = new BlockList();
      for (let r = 0; r < 3; r++) {
        const six = rnd() < 0.5;
        const net = six ? v6() : v4();
        const bits = Math.floor(rnd() * ((six ? 128 : 32) + 1));
        assert.equal(probe.addRange(put(`${net}/${bits}`)), 1, `${net}/${bits}`);
        list.addSubnet(net, bits, six ? "ipv6" : "ipv4");
      }
      for (let a = 0; a < 200; a++) {
        const address = rnd() < 0.5 ? v4() : v6();
        const text = isIPv6(address) ? `[${address}]:443` : `${address}:443`;
        const expected = list.check(address, isIPv6(address) ? "ipv6" : "ipv4");
        assert.equal(probe.inRanges(put(text)) === 1, expected, `${text} in round ${round}`);
      }
    }
  });
});

// The static-data passes (host/optimize/static-data.ts, packed-strings.ts): literals read the same
// after their headers are trimmed and Latin-1 ones are packed, release builds lose the source file
// names their abort handler never prints, debug builds keep them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type binaryen from "binaryen";
import { type StaticDataStats, compactStaticData } from "../../host/optimize/static-data.js";
import { type Program, programFacts } from "../../host/optimize/transforms.js";
import { compileEntry } from "./compile.js";

const PROBE = "test/size/modules/literals-probe/index.ts";
const FILE_NAME = "test/size/modules/literals-probe/index.ts";

interface Probe {
  checksum(): number;
  fail(): void;
  logs: string[];
}

async function instantiate(binary: Uint8Array): Promise<Probe> {
  const logs: string[] = [];
  let memory: WebAssembly.Memory | undefined;
  const module = await WebAssembly.compile(binary);
  const env: Record<string, (...args: number[]) => number> = {};
  for (const i of WebAssembly.Module.imports(module)) env[i.name] = () => 0;
  env.proxy_log = (level, ptr, size) => {
    logs.push(`${level} ${Buffer.from(memory!.buffer, ptr, size).toString("utf8")}`);
    return 0;
  };
  const exports = new WebAssembly.Instance(module, { env }).exports as Record<string, unknown>;
  memory = exports.memory as WebAssembly.Memory;
  (exports._initialize as () => void)();
  return { checksum: () => (exports.checksum as () => number)() >>> 0, fail: exports.fail as () => void, logs };
}

/** Compiles the probe with compactStaticData alone; its statistics land in `stats`. */
async function compileCompacted(target: "release" | "debug", stats: StaticDataStats[]): Promise<Uint8Array> {
  let facts: ReturnType<typeof programFacts> | undefined;
  const pass = {
    afterInitialize: (program: Program) => (facts = programFacts(program)),
    afterCompile: (module: binaryen.Module) => stats.push(compactStaticData(module, facts!)),
  };
  return (await compileEntry(PROBE, { target, transforms: [pass] })).binary;
}

function contains(binary: Uint8Array, text: string, encoding: "latin1" | "utf16le"): boolean {
  return Buffer.from(binary).includes(Buffer.from(text, encoding));
}

describe("static data", () => {
  test("every literal reads the same after compaction; Latin-1 ones are packed, wider ones kept", async () => {
    const reference = await compileEntry(PROBE);
    const stats: StaticDataStats[] = [];
    const compacted = await compileCompacted("release", stats);
    assert.equal((await instantiate(compacted)).checksum(), (await instantiate(reference.binary)).checksum());
    const [s] = stats;
    assert.ok(s.packed >= 8, `packed ${s.packed} literals`);
    assert.ok(s.strings - s.unreferencedDropped - s.packed >= 1, "the literal with characters beyond Latin-1 stays as it was");
    assert.ok(contains(compacted, "héllo wörld", "utf16le"));
    assert.ok(!contains(compacted, "quick brown fox", "utf16le") && contains(compacted, "quick brown fox", "latin1"));
    assert.ok(compacted.length < reference.binary.length, `${compacted.length} < ${reference.binary.length} bytes`);
  });

  test("release builds drop the source file names, and abort still logs its message", async () => {
    const stats: StaticDataStats[] = [];
    const binary = await compileCompacted("release", stats);
    assert.ok(stats[0].unreferencedDropped >= 1);
    for (const encoding of ["latin1", "utf16le"] as const) assert.ok(!contains(binary, FILE_NAME, encoding), encoding);
    const probe = await instantiate(binary);
    assert.throws(() => probe.fail(), /unreachable/);
    assert.deepEqual(probe.logs, ["5 literals-probe: deliberate failure"]);
  });

  test("debug builds keep the file name for the abort location", async () => {
    const probe = await instantiate(await compileCompacted("debug", []));
    assert.throws(() => probe.fail(), /unreachable/);
    assert.equal(probe.logs.length, 1);
    assert.match(probe.logs[0], /^5 literals-probe: deliberate failure at .*literals-probe\/index\.ts:\d+:\d+$/);
  });
});

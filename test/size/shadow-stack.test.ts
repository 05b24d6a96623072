// The shadow-stack elision pass (host/optimize/shadow-stack.ts): it removes most spills, and what
// it leaves is enough for the incremental collector — checked by running a probe full of values
// live across allocations in GC stress mode, where a value the collector cannot see is freed,
// poisoned and reused before it is read.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type binaryen from "binaryen";
import { GC_STRESS_OPTIONS, applyGcStress } from "../../host/optimize/gc-stress.js";
import { type ElisionStats, elideShadowStack } from "../../host/optimize/shadow-stack.js";
import { api, childrenOf } from "../../host/optimize/expression-tree.js";
import { compileEntry } from "./compile.js";

const PROBE = "test/size/modules/gc-liveness-probe/index.ts";
const ROUNDS = 60;

type Pass = (module: binaryen.Module) => void;

/** A transform running `passes` at afterCompile, as host/build.ts runs its own. */
function transform(...passes: Pass[]): object {
  return { afterCompile: (module: binaryen.Module) => passes.forEach((p) => p(module)) };
}

/** The probe's checksum after `ROUNDS` rounds; throws if it traps. */
async function checksum(binary: Uint8Array): Promise<number> {
  const module = await WebAssembly.compile(binary);
  const env: Record<string, () => number> = {};
  for (const i of WebAssembly.Module.imports(module)) env[i.name] = () => 0;
  const instance = new WebAssembly.Instance(module, { env });
  const exports = instance.exports as { run(rounds: number): number; _initialize?: () => void };
  exports._initialize?.();
  return exports.run(ROUNDS) >>> 0;
}

/** Removes every spill: what a wrong pass would do, to show that the stress run catches it. */
function dropAllSpills(module: binaryen.Module): void {
  const drop = (expr: number, replace: (e: number) => void): void => {
    for (const c of childrenOf(expr) ?? []) drop(c.expr, c.set);
    if (api.getExpressionId(expr) !== api.StoreId) return;
    const ptr = api.Store.getPtr(expr);
    const value = api.Store.getValue(expr);
    const spill = api.getExpressionId(ptr) === api.GlobalGetId && api.GlobalGet.getName(ptr) === "~lib/memory/__stack_pointer" &&
      api.getExpressionId(value) !== api.ConstId;
    if (spill) replace(module.drop(value));
  };
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const func = module.getFunctionByIndex(i);
    const body = api.getFunctionInfo(func).body;
    if (body) drop(body, (e) => api.Function.setBody(func, e));
  }
}

describe("shadow-stack elision", () => {
  test("removes most spills, and whole frames from functions that cannot reach a collection", async () => {
    let stats: ElisionStats | undefined;
    const before = await compileEntry(PROBE);
    const after = await compileEntry(PROBE, { transforms: [transform((m) => (stats = elideShadowStack(m)))] });
    assert.ok(stats, "the pass ran");
    assert.deepEqual(stats.functionsSkipped, []);
    assert.ok(stats.spillsRemoved > stats.spillsBefore / 2, `removed ${stats.spillsRemoved} of ${stats.spillsBefore} spills`);
    // weight() and hash() only read strings; the probe's other functions allocate.
    for (const name of ["weight", "hash"]) {
      assert.ok(stats.framesRemoved.some((f) => f.endsWith(`gc-liveness-probe/index/${name}`)), `${name} has no frame`);
    }
    assert.ok(!stats.framesRemoved.some((f) => f.endsWith("gc-liveness-probe/index/run")), "run keeps its frame");
    const spills = (text: string) => text.split("global.get $~lib/memory/__stack_pointer").length;
    assert.ok(spills(after.text) < spills(before.text), "fewer stack-pointer uses in the optimized module");
    assert.ok(after.binary.length < before.binary.length);
  });

  test("leaves every value the collector needs: the probe computes the same under GC stress", async () => {
    const reference = await checksum((await compileEntry(PROBE)).binary);
    const stressed = await compileEntry(PROBE, {
      args: GC_STRESS_OPTIONS,
      transforms: [transform((m) => void elideShadowStack(m), applyGcStress)],
    });
    assert.equal(await checksum(stressed.binary), reference);
  });

  test("GC stress mode does catch a missing spill (so the test above can fail)", async () => {
    const reference = await checksum((await compileEntry(PROBE)).binary);
    const broken = await compileEntry(PROBE, { args: GC_STRESS_OPTIONS, transforms: [transform(dropAllSpills, applyGcStress)] });
    let result: number | string;
    try {
      result = await checksum(broken.binary);
    } catch (e) {
      result = `trap: ${(e as Error).message}`;
    }
    assert.notEqual(result, reference);
  });
});

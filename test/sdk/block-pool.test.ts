// The collector's free lists (assembly/runtime/block-pool.ts, host/optimize/block-pool.ts): in a
// normal build itcms allocates and frees its objects through the SDK's pool; under GC stress
// (PROXY_WASM_AS_GC_STRESS=1, whose poisoning of freed blocks is in TLSF) it keeps calling TLSF.
// The pool's own behaviour is tested by as-pect (assembly/__tests__/block-pool.spec.ts); that
// streams keep linear memory flat with it, by the filters' and the bench's memory checks.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import binaryen from "binaryen";
import { poolCollectorBlocks } from "../../host/optimize/block-pool.js";
import { api, walk } from "../../host/optimize/expression-tree.js";
import { readModuleInfo } from "../../host/wasm/module-info.js";
import { moduleBytes } from "../support/modules.js";

const gcStress = process.env.PROXY_WASM_AS_GC_STRESS === "1";
const POOL = "~lib/proxy-wasm-as/assembly/runtime/block-pool/";

/** The functions each function of the collector (itcms) calls, by caller name. */
function collectorCalls(bytes: Uint8Array): Map<string, Set<string>> {
  const module = binaryen.readBinary(bytes);
  try {
    const calls = new Map<string, Set<string>>();
    for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (!info.name.startsWith("~lib/rt/itcms/") || !info.body) continue;
      const targets = new Set<string>();
      walk(info.body, (e) => {
        if (binaryen.getExpressionId(e) === binaryen.CallId) targets.add(api.Call.getTarget(e));
      });
      calls.set(info.name, targets);
    }
    return calls;
  } finally {
    module.dispose();
  }
}

describe("the collector's block pool", () => {
  for (const name of ["add-header", "metadata-exchange", "stats", "retry-headers", "rate-limit"]) {
    it(`${name}: itcms ${gcStress ? "still uses TLSF under GC stress" : "allocates and frees through the pool"} (debug build)`, async () => {
      const calls = collectorCalls(await moduleBytes(name, "debug"));
      const newCalls = calls.get("~lib/rt/itcms/__new");
      const freeCalls = calls.get("~lib/rt/itcms/free");
      assert.ok(newCalls && freeCalls, "itcms's __new and free are in the module");
      if (gcStress) {
        assert.ok(newCalls.has("~lib/rt/tlsf/__alloc") && freeCalls.has("~lib/rt/tlsf/__free"));
        assert.ok(![...calls.values()].some((t) => [...t].some((f) => f.startsWith(POOL))));
      } else {
        assert.ok(newCalls.has(`${POOL}poolAlloc`) && freeCalls.has(`${POOL}poolFree`));
        for (const [caller, targets] of calls) {
          assert.ok(!targets.has("~lib/rt/tlsf/__alloc") && !targets.has("~lib/rt/tlsf/__free"), `${caller} still calls TLSF`);
        }
      }
    });

    it(`${name}: the release build exports nothing of the pool`, async () => {
      const exports = readModuleInfo(await moduleBytes(name)).exports.map((e) => e.name);
      assert.ok(exports.includes("malloc"), "an SDK module");
      assert.ok(!exports.some((e) => /pool/i.test(e)), exports.join(" "));
    });
  }

  it("leaves a module without the SDK's pool exports as it is", () => {
    const module = new binaryen.Module();
    try {
      module.addFunction("f", binaryen.none, binaryen.none, [], module.nop());
      module.addFunctionExport("f", "f");
      const before = module.emitText();
      poolCollectorBlocks(module);
      assert.equal(module.emitText(), before);
    } finally {
      module.dispose();
    }
  });
});

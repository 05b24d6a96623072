// The per-request harness of bench/lifecycle.ts (what `npm run bench` reports against the
// +150 ns target): it drives a module and its WAT floor through the full request lifecycle and
// refuses to compare them unless they make exactly the same host calls. Only counts are asserted
// here; timings belong to the bench.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { measureLifecycle } from "../../bench/lifecycle.js";
import { modulePath, projectRoot } from "../support/modules.js";

const QUICK = { iterations: 300, runs: 1, warmup: 100 };

describe("lifecycle bench harness", () => {
  test("runs add-header and its floor: two host calls per request, the same in both", async () => {
    const result = await measureLifecycle("add-header", { ...QUICK, modulePath: await modulePath("add-header") });
    assert.equal(result.hostCallsPerRequest, 2);
    assert.deepEqual(result.hostCallsByImport, { proxy_replace_header_map_value: 1, proxy_add_header_map_value: 1 });
    assert.ok(result.moduleNs > 0 && result.floorNs > 0);
    // One run: the difference of that run.
    assert.ok(Math.abs(result.deltaNs - (result.moduleNs - result.floorNs)) < 0.2);
  });

  test("refuses a floor whose host calls differ, naming the first difference", async () => {
    const dir = mkdtempSync(join(tmpdir(), "proxy-wasm-as-floor-"));
    try {
      const floor = readFileSync(join(projectRoot, "bench", "floors", "add-header.wat"), "utf8");
      // The request header added instead of replaced: same count, different call.
      const wrong = floor.replace("(call $replace (i32.const 0)", "(call $add (i32.const 0)");
      assert.notEqual(wrong, floor);
      writeFileSync(join(dir, "floor.wat"), wrong);
      await assert.rejects(
        measureLifecycle("add-header", { ...QUICK, modulePath: await modulePath("add-header"), floorPath: join(dir, "floor.wat") }),
        /first difference at call 0: module proxy_replace_header_map_value\(0, x-wasm-filter, add-header\), floor proxy_add_header_map_value\(0, x-wasm-filter, add-header\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A floor that drifts from its module (a filter changed its host calls) would make the bench
  // report "not measured"; catch it here instead.
  for (const floor of readdirSync(join(projectRoot, "bench", "floors")).filter((f) => f.endsWith(".wat"))) {
    const name = floor.slice(0, -".wat".length);
    test(`${name}: its floor makes exactly the module's host calls`, async () => {
      const result = await measureLifecycle(name, { ...QUICK, modulePath: await modulePath(name) });
      assert.ok(result.hostCallsPerRequest > 0);
    });
  }
});

// The shared scenario list (test/scenarios/) as both targets read it: the local proxy runs it in
// test/integration/shipped-configs.test.ts, real Envoy in test/envoy/envoy.test.ts. One list, two
// targets: every shipped config has scenarios, every scenario names a shipped config, and each
// config's list starts with the Envoy defaults (S5 first, since it expects untouched counters).
import assert from "node:assert/strict";
import { test } from "node:test";
import { scenariosByConfig } from "../scenarios/index.js";
import { shippedConfigNames } from "../scenarios/shipped.js";

test("the shared scenarios cover exactly the configs shipped in envoy/", () => {
  const byConfig = scenariosByConfig();
  assert.deepEqual([...byConfig.keys()].sort(), shippedConfigNames());
  for (const [config, list] of byConfig) {
    assert.deepEqual(
      list.slice(0, 2).map((s) => s.name.split(":")[0]),
      ["S5", "S3"],
      `envoy/${config}: S5 (untouched retry counters) and S3 run first`,
    );
    assert.ok(list.length > 2, `envoy/${config}: at least one scenario of its own filters`);
    assert.equal(new Set(list.map((s) => s.name)).size, list.length, `envoy/${config}: scenario names are unique (test names)`);
  }
});

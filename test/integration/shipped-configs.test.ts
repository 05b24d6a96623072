// The configs shipped in envoy/ loaded, as they are, by the local proxy in front of a real httpbin
// (Debian's python3-httpbin): each is first validated against Envoy's protos and the local proxy's
// supported subset, then serves its shared scenarios (test/scenarios/) in order, with two workers
// as compose.yaml and the Envoy runner start Envoy (--concurrency 2). The only rewrites are the
// ones test/support/proxy.ts makes for any test: loopback ports, httpbin's address, and module
// paths resolved against the repository root.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BOOTSTRAP_TYPE } from "../../host/config/bootstrap.js";
import { encodeJson } from "../../host/envoy/protos.js";
import { scenariosByConfig } from "../scenarios/index.js";
import { envoyDir, shippedConfig, shippedConfigNames } from "../scenarios/shipped.js";
import type { ScenarioTarget } from "../scenarios/target.js";
import { httpbinUnavailable, startHttpbin, type Httpbin } from "../support/httpbin.js";
import { modulePath } from "../support/modules.js";
import { startProxy, type StartedProxy } from "../support/proxy.js";
import { wasmModules } from "./config-parts.js";

const skipped = httpbinUnavailable();
let httpbin: Httpbin | undefined;
before(async () => {
  if (!skipped) httpbin = await startHttpbin();
});
after(() => httpbin?.stop());

const byConfig = scenariosByConfig();

for (const config of shippedConfigNames()) {
  describe(`envoy/${config} in the local proxy`, () => {
    let proxy: StartedProxy | undefined;
    let target: ScenarioTarget | undefined;

    test("is a valid Envoy v3 bootstrap (strict proto3 JSON through Envoy's protos)", () => {
      assert.ok(encodeJson(BOOTSTRAP_TYPE, shippedConfig(config)).length > 0);
    });

    test("loads in the local proxy with two workers", async (t) => {
      if (skipped) return t.skip(skipped);
      // Builds what the config loads when build/ is missing or stale (npm test has built it).
      for (const name of wasmModules(shippedConfig(config))) await modulePath(name);
      proxy = await startProxy({ configFile: join(envoyDir, config), upstreams: { "127.0.0.1": httpbin! }, concurrency: 2 });
      target = { name: "local-proxy", baseUrl: proxy.url("httpbin-demo"), adminUrl: proxy.adminUrl, stats: proxy.stats };
    });
    after(() => proxy?.stop());

    for (const scenario of byConfig.get(config) ?? []) {
      test(scenario.name, async (t) => {
        if (skipped) return t.skip(skipped);
        assert.ok(target, `envoy/${config} did not start in the local proxy`);
        try {
          await scenario.run(target);
        } catch (e) {
          t.diagnostic(`proxy log (tail):\n${proxy!.logs.slice(-30).join("")}`);
          throw e;
        }
      });
    }
  });
}

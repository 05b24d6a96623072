// The scenarios shared by every Envoy-like target (test/scenarios/: S3, S5 and the add-header
// example, also run against a real Envoy by test/envoy/) with the local proxy as the target, on
// the same config files from envoy/.
import { after, before, describe, test } from "node:test";
import { httpbinProxyScenarios } from "../scenarios/httpbin-proxy.js";
import type { ScenarioTarget } from "../scenarios/target.js";
import { httpbinUnavailable, startHttpbin, type Httpbin } from "../support/httpbin.js";
import { modulePath } from "../support/modules.js";
import { startProxy } from "../support/proxy.js";

const envoyDir = new URL("../../../envoy/", import.meta.url).pathname;

describe("shared Envoy scenarios with the local proxy as the target", () => {
  const skipped = httpbinUnavailable();
  let httpbin: Httpbin | undefined;
  before(async () => {
    if (!skipped) httpbin = await startHttpbin();
  });
  after(async () => {
    await httpbin?.stop();
  });

  for (const scenario of httpbinProxyScenarios) {
    test(scenario.name, async (t) => {
      if (skipped) return t.skip(skipped);
      await modulePath("add-header");
      const p = await startProxy({ configFile: `${envoyDir}${scenario.config}`, upstreams: { httpbin: httpbin! } });
      try {
        const target: ScenarioTarget = { name: "local-proxy", baseUrl: p.url(), adminUrl: p.adminUrl, upstreamHost: "httpbin", stats: p.stats };
        await scenario.run(target);
      } finally {
        await p.stop();
      }
    });
  }
});

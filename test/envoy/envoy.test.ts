// `npm run test:envoy`: the shared scenarios (test/scenarios/) against real Envoy. Skipped, with
// the reason, when there is neither ENVOY_BIN nor a Docker engine.
import { after, before, describe, test } from "node:test";
import { httpbinProxyScenarios } from "../scenarios/httpbin-proxy.js";
import type { Scenario } from "../scenarios/target.js";
import { detectEnvoy, startEnvoy, type RunningEnvoy } from "./runner.js";

const mode = await detectEnvoy();
const scenarios: Scenario[] = [...httpbinProxyScenarios];
const configs = [...new Set(scenarios.map((s) => s.config))];

for (const config of configs) {
  describe(`real Envoy with envoy/${config}`, () => {
    let envoy: RunningEnvoy | undefined;
    if (mode.mode !== "skip") {
      before(async () => {
        envoy = await startEnvoy(mode, config);
      });
      after(() => envoy?.stop());
    }
    for (const scenario of scenarios.filter((s) => s.config === config)) {
      test(scenario.name, async (t) => {
        if (mode.mode === "skip") return t.skip(mode.reason);
        try {
          await scenario.run(envoy!.target);
        } catch (e) {
          t.diagnostic(`envoy output (tail):\n${envoy!.logs().slice(-3000)}`);
          throw e;
        }
      });
    }
  });
}

// `npm run test:envoy`: the shared scenarios (test/scenarios/, the list test/integration/ runs
// with the local proxy) against real Envoy, one Envoy per config in envoy/. Skipped, with the
// reason, when there is neither ENVOY_BIN nor a Docker engine.
import { after, before, describe, test } from "node:test";
import { scenariosByConfig } from "../scenarios/index.js";
import { detectEnvoy, startEnvoy, type RunningEnvoy } from "./runner.js";

const mode = await detectEnvoy();

for (const [config, scenarios] of scenariosByConfig()) {
  describe(`real Envoy with envoy/${config}`, () => {
    let envoy: RunningEnvoy | undefined;
    if (mode.mode !== "skip") {
      before(async () => {
        envoy = await startEnvoy(mode, config);
      });
      after(() => envoy?.stop());
    }
    for (const scenario of scenarios) {
      test(scenario.name, async (t) => {
        if (mode.mode === "skip") return t.skip(mode.reason);
        try {
          await scenario.run(envoy!.target);
        } catch (e) {
          t.diagnostic(`envoy output (tail):\n${(await envoy!.logs()).slice(-3000)}`);
          throw e;
        }
      });
    }
  });
}

// How the bench loads each module in the real host: the suite filters with the configurations the
// throughput run uses (bench/proxy-throughput.ts filterSuite, which let every request through), the
// examples with the root id they register and the configuration their tests use.
import { filterSuite } from "./proxy-throughput.js";

export interface ModuleSetup {
  rootId: string;
  configuration?: string | object;
  /** A cluster that answers every HTTP callout with 200 (for filters that call out per request). */
  answeringCluster?: string;
  /** Why the module is not measured this way. */
  skip?: string;
}

const examples: Record<string, Omit<ModuleSetup, "rootId"> & { rootId?: string }> = {
  "proxy-runtime-add-header": { rootId: "add_header" },
  "proxy-runtime-remove-headers": { rootId: "remove_headers", configuration: "x-envoy-,server" },
  "proxy-runtime-auth": { rootId: "auth", configuration: "auth_service", answeringCluster: "auth_service" },
  "proxy-runtime-singleton": { skip: "needs a singleton plugin and a per-request plugin in one VM" },
};

export function moduleSetup(name: string): ModuleSetup {
  const suite = filterSuite.find((f) => f.name === name);
  if (suite) return { rootId: name, configuration: suite.configuration };
  const example = examples[name];
  return { rootId: name, ...example };
}

// How the bench loads each module, in the real host (bench/emulated.ts) and in the minimal host of
// bench/lifecycle.ts alike: the suite filters with the configurations the throughput run uses
// (bench/suite.ts, which lets every request through), the examples with the
// root id they register and the configuration their tests use.
import { filterSuite } from "./suite.js";

export interface ModuleSetup {
  rootId: string;
  configuration?: string | object;
  /** A cluster that answers every HTTP callout with 200 (for filters that call out per request). */
  answeringCluster?: string;
  /** The body of those answers (default empty). */
  answerBody?: string;
  /** Headers every request carries besides the bench's own (e.g. the credential a filter checks). */
  requestHeaders?: [string, string][];
  /** Headers every response carries besides the bench's own (e.g. those a filter removes). */
  responseHeaders?: [string, string][];
  /**
   * A plugin of the same module and vm_id that Envoy runs as a singleton bootstrap WasmService, in
   * its own VM on the main thread, sharing shared data and queues with the measured plugin through
   * the vm_id (proxy-wasm-abi.md §2.8). Only the measured plugin's streams are timed.
   */
  singleton?: { rootId: string; configuration?: string };
  vmId?: string;
  /** Virtual time to let pass before any stream, so timers set at configure have fired (ms). */
  settleMs?: number;
  /**
   * What the singleton leaves in the vm_id once settled, for bench/lifecycle.ts, whose minimal host
   * runs the measured plugin alone: shared data by key, queues it registered.
   */
  singletonState?: { sharedData: Record<string, string>; sharedQueues: string[] };
  /** Why the module is not measured this way. */
  skip?: string;
}

/** The token proxy-runtime-singleton's singleton fetches, and requests present. */
const SINGLETON_TOKEN = "bench-token";

const examples: Record<string, Omit<ModuleSetup, "rootId"> & { rootId?: string }> = {
  "proxy-runtime-add-header": { rootId: "add_header" },
  // Responses carry what the filter is there to remove: the upstream's server header and the
  // x-envoy-upstream-service-time Envoy's router adds before the encoder filters run.
  "proxy-runtime-remove-headers": {
    rootId: "remove_headers",
    configuration: "x-envoy-,server",
    responseHeaders: [["server", "gunicorn/19.9.0"], ["x-envoy-upstream-service-time", "3"]],
  },
  "proxy-runtime-auth": { rootId: "auth", configuration: "auth_service", answeringCluster: "auth_service" },
  // As test/migration/examples.test.ts sets it up (vm_id my_vm_id): the singleton fetches the token
  // from auth_service every second, the per-request plugin picks it up on its own tick; requests
  // carry the token, so every one goes through and reports "allowed <path>" to the singleton's queue.
  "proxy-runtime-singleton": {
    rootId: "auth",
    vmId: "my_vm_id",
    singleton: { rootId: "auth_singleton", configuration: "auth_service" },
    answeringCluster: "auth_service",
    answerBody: SINGLETON_TOKEN,
    requestHeaders: [["x-auth", SINGLETON_TOKEN]],
    settleMs: 2000,
    singletonState: { sharedData: { auth_token: SINGLETON_TOKEN }, sharedQueues: ["auth_requests"] },
  },
};

export function moduleSetup(name: string): ModuleSetup {
  const suite = filterSuite.find((f) => f.name === name);
  if (suite) return { rootId: name, configuration: suite.configuration };
  const example = examples[name];
  return { rootId: name, ...example };
}

/** The configuration as the PLUGIN_CONFIGURATION buffer holds it (an object as JSON, like Istio's StringValue). */
export function configurationBytes(configuration: string | object | undefined): Uint8Array {
  return configuration === undefined ? new Uint8Array(0) : Buffer.from(typeof configuration === "string" ? configuration : JSON.stringify(configuration));
}

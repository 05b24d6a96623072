// What a WasmPlugin for one filter says besides where the image is: phase, priority, traffic
// match, failure strategy, root id and default pluginConfig. Defaults follow filters.md §5.5; a
// filter can override any of them in filters/<name>/wasmplugin.json (same field names as the
// WasmPlugin spec). The merged result is validated against the CRD when a WasmPlugin is generated.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { findModules, projectRoot } from "../build.js";

export type Phase = "UNSPECIFIED_PHASE" | "AUTHN" | "AUTHZ" | "STATS";
export type FailStrategy = "FAIL_CLOSE" | "FAIL_OPEN" | "FAIL_RELOAD";
export type WorkloadMode = "UNDEFINED" | "CLIENT" | "SERVER" | "CLIENT_AND_SERVER";

export interface TrafficSelector {
  mode?: WorkloadMode;
  ports?: { number: number }[];
}

/** The WasmPlugin spec fields a filter decides (url and sha256 come from the pushed image). */
export interface WasmPluginDescriptor {
  /** Envoy root_id (proxy-wasm `plugin_root_id`); Istio's `pluginName`. */
  pluginName: string;
  phase?: Phase;
  priority?: number;
  match?: TrafficSelector[];
  failStrategy?: FailStrategy;
  pluginConfig?: Record<string, unknown>;
  [field: string]: unknown;
}

const bothDirections: TrafficSelector[] = [{ mode: "CLIENT_AND_SERVER" }];

/**
 * filters.md §5.5 "Suggested WasmPlugins for our four filters". Failure strategies: the four are
 * telemetry or protection, and none of them should turn a broken download into an outage, so they
 * fail open (Envoy's own rate limit filter also defaults to failure_mode_deny: false); the example
 * keeps Istio's default FAIL_CLOSE.
 */
export const suiteDefaults: Record<string, Omit<WasmPluginDescriptor, "pluginName">> = {
  // AUTHN is the earliest slot a WasmPlugin gets; highest priority so other AUTHN plugins see peers.
  "metadata-exchange": { phase: "AUTHN", priority: 1000, match: bothDirections, failStrategy: "FAIL_OPEN" },
  // After authz, before Istio's own stats; reads peer metadata written by metadata-exchange.
  stats: { phase: "STATS", match: bothDirections, failStrategy: "FAIL_OPEN" },
  // Closest slot to the router; outbound sidecars and gateways (inbound retries to localhost add little).
  "retry-headers": { phase: "UNSPECIFIED_PHASE", match: [{ mode: "CLIENT" }], failStrategy: "FAIL_OPEN" },
  // After authentication, before RBAC: rejected requests never reach authorization.
  "rate-limit": { phase: "AUTHZ", match: bothDirections, failStrategy: "FAIL_OPEN" },
};

const exampleDefaults: Omit<WasmPluginDescriptor, "pluginName"> = {
  phase: "UNSPECIFIED_PHASE",
  match: bothDirections,
  failStrategy: "FAIL_CLOSE",
};

export const descriptorFileName = "wasmplugin.json";

/** Source folder of a filter (filters/<name> or filters/examples/<name>), if it has one. */
export function filterSourceDir(name: string, root = projectRoot): string | undefined {
  return findModules(root).find((m) => m.name === name && !m.testOnly)?.dir;
}

/**
 * The one example shipped as a WasmPlugin (and in envoy/add-header.yaml): the smallest deployable
 * filter, for trying the delivery path. The other folders in filters/examples/ are SDK demos
 * (proxy-runtime-*, ...), not deployables; `proxy-wasm wasmplugin` still writes one on request.
 */
export const deployableExamples: readonly string[] = ["add-header"];

/**
 * Every filter a WasmPlugin is shipped for in envoy/istio/: the suite, any other filter directly
 * under filters/ (a deployable filter by the project's layout), and the deployable examples.
 */
export function deployableFilters(root = projectRoot): string[] {
  const names = new Set([...Object.keys(suiteDefaults), ...deployableExamples]);
  const filtersDir = join(root, "filters");
  for (const m of findModules(root)) if (!m.testOnly && dirname(m.dir) === filtersDir) names.add(m.name);
  return [...names].sort();
}

/** Root ids are C-ish identifiers by convention ("metadata_exchange"); names are kebab-case. */
export function defaultPluginName(filter: string): string {
  return filter.replace(/-/g, "_");
}

export function loadDescriptor(filter: string, root = projectRoot): WasmPluginDescriptor {
  const base = { pluginName: defaultPluginName(filter), ...(suiteDefaults[filter] ?? exampleDefaults) };
  const dir = filterSourceDir(filter, root);
  const file = dir && join(dir, descriptorFileName);
  if (!file || !existsSync(file)) return base;
  let own: unknown;
  try {
    own = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  if (!own || typeof own !== "object" || Array.isArray(own)) throw new Error(`${file}: must be a JSON object of WasmPlugin spec fields`);
  for (const field of ["url", "sha256"]) {
    if (field in own) throw new Error(`${file}: "${field}" is set from the pushed image, not in the descriptor`);
  }
  return { ...base, ...(own as Record<string, unknown>) } as WasmPluginDescriptor;
}

/** filters/<name>/config.schema.json, when the filter ships one (pluginConfig is checked against it). */
export function filterConfigSchema(filter: string, root = projectRoot): { file: string; schema: object } | undefined {
  const dir = filterSourceDir(filter, root);
  const file = dir && join(dir, "config.schema.json");
  if (!file || !existsSync(file)) return undefined;
  try {
    return { file, schema: JSON.parse(readFileSync(file, "utf8")) as object };
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
}

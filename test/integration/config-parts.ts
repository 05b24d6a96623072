// Reads the parts of a shipped bootstrap the convention checks look at: its HTTP filter chains and
// the Wasm plugins in them.
import { basename } from "node:path";
import type { Json } from "../scenarios/shipped.js";

export interface WasmFilterEntry {
  /** The http_filters entry's name (envoy.filters.http.wasm, istio.stats, ...). */
  filterName: string;
  /** vm_config.code.local.filename as written. */
  filename: string;
  /** The module it loads: build/<module>.wasm. */
  module: string;
  rootId: string;
  /** The StringValue handed to the plugin (PLUGIN_CONFIGURATION), or undefined. */
  configuration?: string;
}

export interface ChainEntry {
  filterName: string;
  wasm?: WasmFilterEntry;
}

export interface ListenerParts {
  name: string;
  trafficDirection?: string;
  chain: ChainEntry[];
}

const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const at = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Json)[k] : undefined), o);

function wasmEntry(filterName: string, typed: unknown): WasmFilterEntry | undefined {
  if (at(typed, "@type") !== "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm") return undefined;
  const config = at(typed, "config");
  const filename = String(at(config, "vm_config", "code", "local", "filename") ?? "");
  const configuration = at(config, "configuration", "value");
  return {
    filterName,
    filename,
    module: basename(filename, ".wasm"),
    rootId: String(at(config, "root_id") ?? ""),
    configuration: typeof configuration === "string" ? configuration : undefined,
  };
}

export function listeners(bootstrap: Json): ListenerParts[] {
  return list(at(bootstrap, "static_resources", "listeners")).map((l) => ({
    name: String(l.name),
    trafficDirection: l.traffic_direction as string | undefined,
    chain: list(at(l, "filter_chains"))
      .flatMap((fc) => list(fc.filters))
      .flatMap((f) => list(at(f, "typed_config", "http_filters")))
      .map((hf) => ({ filterName: String(hf.name), wasm: wasmEntry(String(hf.name), hf.typed_config) })),
  }));
}

export function wasmFilters(bootstrap: Json): WasmFilterEntry[] {
  return listeners(bootstrap).flatMap((l) => l.chain.flatMap((e) => (e.wasm ? [e.wasm] : [])));
}

/** Names of the modules a bootstrap loads (build/<name>.wasm). */
export function wasmModules(bootstrap: Json): string[] {
  return [...new Set(wasmFilters(bootstrap).map((w) => w.module))];
}

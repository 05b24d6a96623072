// Entry point of the proxy-wasm host: what the local proxy (one envoy.filters.http.wasm entry) and
// the emulator call to load a plugin. Mirrors Envoy's PluginConfig + proxy-wasm-cpp-host's
// createWasm / getOrCreateThreadLocalPlugin (proxy-wasm-abi.md §6.1): a base VM per vm_key, a canary
// clone that runs on_vm_start + on_configure to validate the configuration and is discarded, then
// one VM per worker with the plugin's root context.
import type { ServerContext } from "../envoy/server-context.js";
import type { FilterFactory } from "../http/filter.js";
import type { AbiVersion } from "./abi.js";
import { PluginRuntime } from "./lifecycle.js";
import type { ForeignFunction } from "./vm.js";

/** envoy.extensions.wasm.v3.FailurePolicy (UNSPECIFIED resolves to FAIL_CLOSED, §6.5). */
export type FailurePolicy = "FAIL_CLOSED" | "FAIL_OPEN" | "FAIL_RELOAD";

/** From envoy.extensions.wasm.v3.PluginConfig, already resolved to bytes and plain values. */
export interface WasmPluginConfig {
  /** PluginConfig.name (property plugin_name, log prefix). */
  name: string;
  /** PluginConfig.root_id (property plugin_root_id). */
  rootId: string;
  /** vm_config.vm_id: the VM sharing and shared-data scope. */
  vmId: string;
  /** Module bytes (vm_config.code.local.filename, read by the caller). */
  code: Uint8Array;
  /** PLUGIN_CONFIGURATION buffer (§5.4: a StringValue's text as UTF-8 bytes). */
  configuration: Uint8Array;
  /** VM_CONFIGURATION buffer. */
  vmConfiguration: Uint8Array;
  /** vm_config.environment_variables, resolved (host_env_keys looked up, key_values merged). */
  environment: Record<string, string>;
  failurePolicy: FailurePolicy;
  /** reload_config.backoff.base_interval in ms (Envoy default 1000). Only for FAIL_RELOAD. */
  reloadBackoffMs?: number;
  /** PluginConfig.allow_on_headers_stop_iteration (Envoy ≥ 1.35). */
  allowOnHeadersStopIteration?: boolean;
  /** Worker VMs (Envoy --concurrency). */
  concurrency: number;
  /**
   * capability_restriction_config.allowed_capabilities names (proxy_* and WASI function names).
   * Undefined = everything allowed (Envoy's default when the field is absent).
   */
  allowedCapabilities?: string[];
  /** Where the code came from (file path), used in error messages only. */
  codeSource?: string;
}

/** Host-wide choices that are not part of Envoy's PluginConfig. */
export interface WasmHostOptions {
  /**
   * Emulate Envoy < 1.33, where the legacy top-level attributes `node`, `cluster_name`,
   * `cluster_metadata`, `listener_direction`, `listener_metadata`, `route_name`, `route_metadata`
   * and `upstream_host_metadata` still resolve. Default false: current Envoy, where they were
   * removed (envoy PR #36619) and read as NotFound (proxy-wasm-abi.md §7.2 ⚠).
   */
  legacyProperties?: boolean;
  /**
   * Provide `env.abort` (AssemblyScript's default abort import) instead of failing to link like
   * Envoy does. Never enable this for anything that must run in Envoy.
   */
  lenientAbort?: boolean;
  /** Foreign functions added to Envoy's built-in ones (the emulator's registerForeignFunction). */
  foreignFunctions?: ReadonlyMap<string, ForeignFunction>;
}

/** Read-only view of one VM instance, for tests and the admin endpoint. */
export interface WasmVmView {
  readonly worker: number;
  /** Linear memory size in bytes (memory never shrinks, §8.2). */
  readonly memoryBytes: number;
  /** True after a trap (FailState RuntimeError) or a start/configure failure. */
  readonly failed: boolean;
  /** Root context id of this plugin in that VM. */
  readonly rootContextId: number;
}

export interface WasmPlugin {
  readonly config: WasmPluginConfig;
  readonly abiVersion: AbiVersion;
  /**
   * A StreamFilter factory bound to worker `worker` (0 ≤ worker < concurrency); each stream gets
   * its own Wasm context, created lazily as Envoy does. When the worker's VM has failed, FAIL_OPEN
   * yields a pass-through filter (Envoy does not add the filter at all), FAIL_CLOSED a filter that
   * answers 503 `wasm_fail_stream`, FAIL_RELOAD first tries a new VM (with backoff).
   */
  filterFactory(worker: number): FilterFactory;
  /** The VM currently serving `worker`. */
  vm(worker: number): WasmVmView;
  /** Root shutdown: proxy_on_done / proxy_done / proxy_on_delete on every worker's root context. */
  shutdown(): Promise<void>;
}

/**
 * Loads and starts a plugin. Rejects with a WasmLoadError carrying Envoy's message (e.g.
 * "Failed to load Wasm module due to a missing import: env.abort") when the module does not load,
 * or when on_vm_start / on_configure return false in the canary.
 */
export async function createWasmPlugin(
  config: WasmPluginConfig,
  server: ServerContext,
  options: WasmHostOptions = {},
): Promise<WasmPlugin> {
  return PluginRuntime.create(config, server, options);
}

export { WasmLoadError } from "./loader.js";

// Listener → ListenerModel: one filter chain holding one HTTP connection manager, whose http_filters
// are Wasm filters followed by the router, as Envoy requires of a terminal filter.
import { existsSync } from "node:fs";
import { encodeJson } from "../envoy/protos.js";
import { ConfigError, joinPath } from "./errors.js";
import type { HcmModel, HttpFilterModel, ListenerModel, WasmPluginModel } from "./model.js";
import { anyType, fullName, type JsonObject } from "./proto-json.js";
import { arr, bool, num, obj, str, strs } from "./read.js";
import { buildRouteConfig } from "./routes.js";
import { DEFAULT_BUFFER_LIMIT_BYTES } from "./clusters.js";

const ROUTER = "envoy.extensions.filters.http.router.v3.Router";
const WASM = "envoy.extensions.filters.http.wasm.v3.Wasm";
const trafficDirections: Record<string, number> = { UNSPECIFIED: 0, INBOUND: 1, OUTBOUND: 2 };

export function buildListeners(listeners: JsonObject[], path: string, clusterNames: ReadonlySet<string>): ListenerModel[] {
  const seen = new Set<string>();
  return listeners.map((l, i) => {
    const lpath = joinPath(path, i);
    const model = buildListener(l, lpath, clusterNames);
    if (seen.has(model.name)) throw new ConfigError(`${lpath}.name: error adding listener: duplicate listener '${model.name}'`, `${lpath}.name`);
    seen.add(model.name);
    return model;
  });
}

function buildListener(l: JsonObject, path: string, clusterNames: ReadonlySet<string>): ListenerModel {
  const sa = obj(obj(l, "address") ?? {}, "socket_address");
  if (!sa) throw new ConfigError(`${path}.address: a listener needs address.socket_address`, `${path}.address`);
  const chains = arr(l, "filter_chains");
  if (chains.length !== 1) {
    throw new ConfigError(`${path}.filter_chains: the local proxy needs exactly one filter chain (found ${chains.length})`, `${path}.filter_chains`);
  }
  const chainPath = `${path}.filter_chains[0]`;
  const filters = arr(chains[0]!, "filters");
  if (filters.length !== 1) {
    throw new ConfigError(`${chainPath}.filters: exactly one network filter, the HTTP connection manager, is needed (found ${filters.length})`, `${chainPath}.filters`);
  }
  const hcm = obj(filters[0]!, "typed_config");
  if (!hcm) throw missingTypedConfig(`${chainPath}.filters[0]`, str(filters[0]!, "name"));
  return {
    name: str(l, "name"),
    address: { address: str(sa, "address"), port: num(sa, "port_value") },
    statPrefix: str(l, "stat_prefix") || undefined,
    trafficDirection: trafficDirections[str(l, "traffic_direction", "UNSPECIFIED")] ?? 0,
    metadata: obj(l, "metadata"),
    filterChainName: str(chains[0]!, "name"),
    bufferLimitBytes: num(l, "per_connection_buffer_limit_bytes", DEFAULT_BUFFER_LIMIT_BYTES),
    hcm: buildHcm(hcm, `${chainPath}.filters[0].typed_config`, clusterNames),
  };
}

/** Envoy ≥1.23 rejects an extension without typed_config (envoy-scenarios.md §6). */
function missingTypedConfig(path: string, name: string): ConfigError {
  return new ConfigError(
    `${path}: Didn't find a registered implementation for '${name}' with type URL: '' (add typed_config with its "@type")`,
    path,
  );
}

function buildHcm(h: JsonObject, path: string, clusterNames: ReadonlySet<string>): HcmModel {
  const iac = obj(h, "internal_address_config");
  return {
    statPrefix: str(h, "stat_prefix"),
    useRemoteAddress: bool(h, "use_remote_address"),
    xffNumTrustedHops: num(h, "xff_num_trusted_hops"),
    skipXffAppend: bool(h, "skip_xff_append"),
    internalAddress: iac
      ? {
          unixSockets: bool(iac, "unix_sockets"),
          cidrRanges: arr(iac, "cidr_ranges").map((r) => ({ prefix: str(r, "address_prefix"), length: num(r, "prefix_len") })),
        }
      : undefined,
    generateRequestId: bool(h, "generate_request_id", true),
    preserveExternalRequestId: bool(h, "preserve_external_request_id"),
    alwaysSetRequestIdInResponse: bool(h, "always_set_request_id_in_response"),
    serverName: str(h, "server_name") || "envoy",
    serverHeaderTransformation: str(h, "server_header_transformation", "OVERWRITE") as HcmModel["serverHeaderTransformation"],
    routeConfig: buildRouteConfig(obj(h, "route_config") ?? {}, `${path}.route_config`, clusterNames),
    httpFilters: buildHttpFilters(arr(h, "http_filters"), `${path}.http_filters`),
  };
}

function buildHttpFilters(filters: JsonObject[], path: string): HttpFilterModel[] {
  const built = filters.map((f, i): HttpFilterModel => {
    const fpath = joinPath(path, i);
    const name = str(f, "name");
    const tc = obj(f, "typed_config");
    if (!tc) throw missingTypedConfig(fpath, name);
    const t = fullName(anyType(tc)!);
    if (t === ROUTER) return { kind: "router", name, suppressEnvoyHeaders: bool(tc, "suppress_envoy_headers") };
    if (t === WASM) return { kind: "wasm", name, path: fpath, plugin: buildPlugin(obj(tc, "config") ?? {}, `${fpath}.typed_config.config`) };
    throw new ConfigError(`${fpath}.typed_config: unexpected filter type ${t}`, fpath);
  });
  // Envoy: the router is terminal and must come last, and the chain must end with it.
  built.forEach((f, i) => {
    if (f.kind === "router" && i !== built.length - 1) {
      throw new ConfigError(`${joinPath(path, i)}: terminal filter named ${f.name} of type envoy.filters.http.router must be the last filter in a http filter chain.`);
    }
  });
  const last = built[built.length - 1];
  if (!last || last.kind !== "router") {
    throw new ConfigError(`${path}: ${last ? `non-terminal filter named ${last.name} of type envoy.filters.http.wasm is the last filter in a http filter chain.` : "the http filter chain needs the router (envoy.filters.http.router)"}`, path);
  }
  return built;
}

/** PLUGIN_CONFIGURATION / VM_CONFIGURATION bytes from an Any (proxy-wasm-abi.md §5.4, filters.md §0). */
function configurationBytes(any: JsonObject | undefined): Uint8Array {
  if (!any) return new Uint8Array();
  const t = fullName(anyType(any)!);
  switch (t) {
    case "google.protobuf.StringValue":
      return Buffer.from(String(any.value ?? ""), "utf8");
    case "google.protobuf.BytesValue":
      return Buffer.from(String(any.value ?? ""), "base64");
    case "google.protobuf.Struct":
      return Buffer.from(JSON.stringify(any.value ?? {}), "utf8");
    default: {
      // Any other message is handed over in its protobuf encoding, as Envoy passes the Any's value.
      const { "@type": _url, ...body } = any;
      return encodeJson(t, t.startsWith("google.protobuf.") ? any.value : body);
    }
  }
}

function buildPlugin(p: JsonObject, path: string): WasmPluginModel {
  const vm = obj(p, "vm_config");
  if (!vm) throw new ConfigError(`${path}.vm_config: a vm_config is required`, `${path}.vm_config`);
  const local = obj(obj(vm, "code") ?? {}, "local");
  if (!local) throw new ConfigError(`${path}.vm_config.code.local: the module must be given by code.local`, `${path}.vm_config.code`);
  let code: WasmPluginModel["code"];
  if (local.filename !== undefined) {
    const filename = str(local, "filename");
    // Envoy fails the load when the module file is missing (DataSource read).
    if (!existsSync(filename)) {
      throw new ConfigError(`${path}.vm_config.code.local.filename: Wasm module file ${JSON.stringify(filename)} does not exist`, `${path}.vm_config.code.local.filename`);
    }
    code = { filename };
  } else if (local.inline_bytes !== undefined) code = { bytes: Buffer.from(str(local, "inline_bytes"), "base64") };
  else throw new ConfigError(`${path}.vm_config.code.local: filename or inline_bytes is required`, `${path}.vm_config.code.local`);

  const environment: Record<string, string> = {};
  const env = obj(vm, "environment_variables") ?? {};
  for (const key of strs(env, "host_env_keys")) if (process.env[key] !== undefined) environment[key] = process.env[key]!;
  for (const [k, v] of Object.entries((env.key_values as Record<string, string> | undefined) ?? {})) {
    if (k in environment) {
      throw new ConfigError(`${path}.vm_config.environment_variables.key_values.${k}: Key ${k} is duplicated in envoy.extensions.wasm.v3.VmConfig.environment_variables for ${str(p, "name")}. All the keys must be unique.`);
    }
    environment[k] = v;
  }
  const policy = str(p, "failure_policy", "UNSPECIFIED");
  // proxy-wasm-abi.md §6.5: UNSPECIFIED means FAIL_CLOSED unless the deprecated fail_open is set.
  const failurePolicy = policy === "UNSPECIFIED" ? (bool(p, "fail_open") ? "FAIL_OPEN" : "FAIL_CLOSED") : (policy as WasmPluginModel["failurePolicy"]);
  return {
    name: str(p, "name"),
    rootId: str(p, "root_id"),
    vmId: str(vm, "vm_id"),
    runtime: str(vm, "runtime"),
    code,
    configuration: configurationBytes(obj(p, "configuration")),
    vmConfiguration: configurationBytes(obj(vm, "configuration")),
    environment,
    failurePolicy,
    allowOnHeadersStopIteration: p.allow_on_headers_stop_iteration as boolean | undefined,
    path,
  };
}

// Plugin configuration (README "Configuration"; config.schema.json is the same contract). Istio's
// metadata exchange "has sane defaults and therefore it will be fully functional even with
// configuration errors" (istio/proxy extensions/metadata_exchange/plugin.cc, filters.md §1.3): a
// bad field is reported and keeps its default, the rest of the configuration still applies, and
// the plugin never fails to configure. Pure code: no host imports.
import { JsonType, JsonValue, parseJson } from "proxy-wasm-as";

/** envoy.config.core.v3.TrafficDirection, as the `xds.listener_direction` attribute reports it. */
export const enum TrafficDirection {
  Unspecified = 0,
  Inbound = 1,
  Outbound = 2,
}

// Messages spell these numbers out as literals: formatting them would cost code size.
export const DEFAULT_MAX_PEER_CACHE_SIZE: i32 = 500;
export const DEFAULT_MAX_PEER_HEADER_BYTES: i32 = 16384;
/** Upper bound of max_peer_header_bytes: the SDK's own limit on a header map (PAIRS_MAX_BYTES). */
export const MAX_PEER_HEADER_BYTES_LIMIT: i32 = 1 << 20;

export class MetadataExchangeConfig {
  /** Decoded peers kept per VM, by node id; 0 disables the cache (Istio's max_peer_cache_size). */
  maxPeerCacheSize: i32 = DEFAULT_MAX_PEER_CACHE_SIZE;
  /** Used when the listener has no traffic_direction (static configs). */
  direction: TrafficDirection = TrafficDirection.Unspecified;
  /** Node labels sent in LABELS besides Istio's four. */
  additionalLabels: string[] = [];
  /** Strip peer headers from downstream without storing them (ingress at the mesh edge). */
  edge: bool = false;
  /** Longest accepted value of either peer header; longer ones are removed and ignored. */
  maxPeerHeaderBytes: i32 = DEFAULT_MAX_PEER_HEADER_BYTES;
}

export class ConfigResult {
  config: MetadataExchangeConfig = new MetadataExchangeConfig();
  /** One message per problem, each naming the field; empty when the configuration is valid. */
  errors: string[] = [];
}

/** Parses the plugin configuration JSON. Empty text (Istio's default) means all defaults. Never aborts. */
export function parseConfig(text: string): ConfigResult {
  const result = new ConfigResult();
  if (text.length == 0) return result;
  const parsed = parseJson(text);
  const root = parsed.value;
  if (root === null) {
    result.errors.push("not valid JSON (" + parsed.describe() + "); all defaults apply");
    return result;
  }
  if (!root.isObject()) {
    result.errors.push("must be a JSON object, got " + root.typeName() + "; all defaults apply");
    return result;
  }
  const config = result.config;
  const keys = root.keys();
  for (let i = 0, n = keys.length; i < n; i++) {
    const key = unchecked(keys[i]);
    const value = root.get(key)!;
    let problem: string;
    if (key == "max_peer_cache_size") problem = readCacheSize(value, config);
    else if (key == "direction") problem = readDirection(value, config);
    else if (key == "additional_labels") problem = readAdditionalLabels(value, config, result.errors);
    else if (key == "edge") problem = readEdge(value, config);
    else if (key == "max_peer_header_bytes") problem = readMaxHeaderBytes(value, config);
    else problem = "unknown field, ignored";
    if (problem.length > 0) result.errors.push(key + ": " + problem);
  }
  return result;
}

/** The number if it is an integer in [min, max], else -1 (callers' ranges never include -1). */
function integerIn(value: JsonValue, min: i32, max: i32): i32 {
  if (value.type != JsonType.Number) return -1;
  const n = value.asNumber();
  if (n != Math.trunc(n) || n < <f64>min || n > <f64>max) return -1;
  return <i32>n;
}

/** The offending value for a message. Integers only: formatting any double would cost kilobytes of code. */
function describe(value: JsonValue): string {
  if (value.type == JsonType.String) return "\"" + value.asString() + "\"";
  if (value.type != JsonType.Number) return value.typeName();
  const n = value.asNumber();
  return n == Math.trunc(n) && Math.abs(n) <= <f64>i32.MAX_VALUE ? (<i32>n).toString() : "a fractional or huge number";
}

/** "must be <what>, got <value>; the default <fallback> applies" */
function invalid(what: string, value: JsonValue, fallback: string): string {
  return "must be " + what + ", got " + describe(value) + "; the default " + fallback + " applies";
}

function readCacheSize(value: JsonValue, config: MetadataExchangeConfig): string {
  const n = integerIn(value, 0, i32.MAX_VALUE);
  if (n < 0) return invalid("an integer from 0 to 2147483647", value, "500");
  config.maxPeerCacheSize = n;
  return "";
}

function readMaxHeaderBytes(value: JsonValue, config: MetadataExchangeConfig): string {
  const n = integerIn(value, 1, MAX_PEER_HEADER_BYTES_LIMIT);
  if (n < 0) return invalid("an integer from 1 to 1048576", value, "16384");
  config.maxPeerHeaderBytes = n;
  return "";
}

function readDirection(value: JsonValue, config: MetadataExchangeConfig): string {
  const name = value.type == JsonType.String ? value.asString() : "";
  if (name == "INBOUND") config.direction = TrafficDirection.Inbound;
  else if (name == "OUTBOUND") config.direction = TrafficDirection.Outbound;
  else if (name == "UNSPECIFIED") config.direction = TrafficDirection.Unspecified;
  else return invalid("INBOUND, OUTBOUND or UNSPECIFIED", value, "UNSPECIFIED");
  return "";
}

function readEdge(value: JsonValue, config: MetadataExchangeConfig): string {
  if (value.type != JsonType.Bool) return invalid("a boolean", value, "false");
  config.edge = value.asBool();
  return "";
}

/** Keeps the valid names; each invalid item is its own error. */
function readAdditionalLabels(value: JsonValue, config: MetadataExchangeConfig, errors: string[]): string {
  if (value.type != JsonType.Array) return invalid("an array of label names", value, "[]");
  const labels = new Array<string>();
  for (let i = 0, n = value.length; i < n; i++) {
    const item = value.at(i)!;
    if (item.type == JsonType.String && item.asString().length > 0) labels.push(item.asString());
    else errors.push("additional_labels[" + i.toString() + "]: must be a non-empty label name, got " + describe(item) + "; ignored");
  }
  config.additionalLabels = labels;
  return "";
}

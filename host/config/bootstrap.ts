// Loads an Envoy v3 bootstrap the way `envoy -c FILE --config-yaml YAML` does: parse YAML or JSON,
// validate against Envoy's protos (unknown fields, wrong types, unknown @type, PGV rules, each with
// its JSON path), merge --config-yaml over the file with protobuf MergeFrom semantics, then check
// the subset the local proxy implements and build the model it runs from.
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import YAML from "yaml";
import { encodeJson, lookupType, ProtoJsonError } from "../envoy/protos.js";
import { buildClusters } from "./clusters.js";
import { TagProducer } from "../stats/tag-extractor.js";
import { ConfigError, notSupported } from "./errors.js";
import { buildListeners } from "./listeners.js";
import { mergeMessage } from "./merge.js";
import type { BootstrapModel, StatsConfigModel } from "./model.js";
import { validateRules } from "./pgv.js";
import { canonicalize, type JsonObject } from "./proto-json.js";
import { arr, bool, compileSearch, num, obj, str } from "./read.js";
import { buildStringMatcher } from "./routes.js";
import { checkSupported } from "./supported.js";

export const BOOTSTRAP_TYPE = "envoy.config.bootstrap.v3.Bootstrap";

export interface LoadOptions {
  /** -c / --config-path */
  configPath?: string;
  /** An already parsed bootstrap (instead of configPath); `source` names it in errors. */
  config?: { json: unknown; source: string };
  /** --config-yaml, merged over the file */
  configYaml?: string;
}

export interface LoadedBootstrap {
  /** The merged bootstrap in canonical JSON (what /config_dump shows). */
  json: JsonObject;
  model: BootstrapModel;
}

/** Parses config text; `.json` files as JSON, everything else as YAML (JSON is YAML too). */
export function parseConfigText(text: string, source: string, format: "json" | "yaml"): unknown {
  if (format === "json") {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${source}: unable to parse JSON as proto: ${(e as Error).message}`);
    }
  }
  const doc = YAML.parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) throw new ConfigError(`${source}: unable to parse YAML: ${doc.errors[0]!.message}`);
  return doc.toJS({ maxAliasCount: 1000 });
}

function readConfigFile(path: string): unknown {
  const ext = extname(path).toLowerCase();
  if (ext === ".pb" || ext === ".pb_text") throw new ConfigError(`${path}: binary and text protobuf bootstraps are not supported by the local proxy; use YAML or JSON`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? `unable to read file: ${path} (no such file)` : `unable to read file: ${path}: ${(e as Error).message}`);
  }
  return parseConfigText(text, path, ext === ".json" ? "json" : "yaml");
}

/** Proto validation of one source; returns its canonical JSON. */
function validateSource(json: unknown, source: string): JsonObject {
  if (json === null || json === undefined) return {};
  if (typeof json !== "object" || Array.isArray(json)) throw new ConfigError(`${source}: the bootstrap must be an object`);
  try {
    encodeJson(BOOTSTRAP_TYPE, json);
  } catch (e) {
    if (e instanceof ProtoJsonError) throw new ConfigError(`${source}: ${e.message}`, e.path);
    throw e;
  }
  return canonicalize(lookupType(BOOTSTRAP_TYPE)!, json) as JsonObject;
}

/** Loads, validates and checks a bootstrap. Throws ConfigError naming the source and JSON path. */
export function loadBootstrap(opts: LoadOptions): LoadedBootstrap {
  if (!opts.configPath && !opts.configYaml && !opts.config) {
    throw new ConfigError("At least one of --config-path or --config-yaml or Options::configProto() should be non-empty");
  }
  const type = lookupType(BOOTSTRAP_TYPE)!;
  let json: JsonObject = {};
  if (opts.configPath) json = validateSource(readConfigFile(opts.configPath), opts.configPath);
  else if (opts.config) json = validateSource(opts.config.json, opts.config.source);
  if (opts.configYaml) {
    const override = validateSource(parseConfigText(opts.configYaml, "--config-yaml", "yaml"), "--config-yaml");
    json = mergeMessage(type, json, override);
  }
  const source = opts.configPath ?? opts.config?.source ?? "--config-yaml";
  try {
    validateRules(type, json, "");
    checkSupported(type, json, "");
    return { json, model: buildModel(json) };
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${source}: ${e.message}`, e.path);
    throw e;
  }
}

function buildModel(b: JsonObject): BootstrapModel {
  const node = obj(b, "node") ?? {};
  const admin = obj(obj(obj(b, "admin") ?? {}, "address") ?? {}, "socket_address");
  const sr = obj(b, "static_resources") ?? {};
  const clusters = buildClusters(arr(sr, "clusters"), "static_resources.clusters");
  const clusterNames = new Set(clusters.map((c) => c.name));
  return {
    node: {
      id: str(node, "id"),
      cluster: str(node, "cluster"),
      metadata: obj(node, "metadata") ?? {},
      locality: obj(node, "locality") as BootstrapModel["node"]["locality"],
    },
    admin: admin ? { address: { address: str(admin, "address"), port: num(admin, "port_value") } } : undefined,
    listeners: buildListeners(arr(sr, "listeners"), "static_resources.listeners", clusterNames),
    clusters,
    stats: buildStatsConfig(obj(b, "stats_config") ?? {}),
  };
}

function buildStatsConfig(s: JsonObject): StatsConfigModel {
  const tags = arr(s, "stats_tags").map((t, i) => {
    const path = `stats_config.stats_tags[${i}]`;
    if (t.regex !== undefined) compileSearch(str(t, "regex"), `${path}.regex`);
    return { name: str(t, "tag_name"), regex: t.regex as string | undefined, fixedValue: t.fixed_value as string | undefined };
  });
  const useAllDefaultTags = bool(s, "use_all_default_tags", true);
  try {
    // Envoy builds its TagProducer at load time, which rejects duplicate or unresolvable tags.
    new TagProducer(tags, useAllDefaultTags);
  } catch (e) {
    throw new ConfigError(`stats_config.stats_tags: ${(e as Error).message}`, "stats_config.stats_tags");
  }
  return {
    tags,
    useAllDefaultTags,
    histogramBuckets: arr(s, "histogram_bucket_settings").map((h, i) => {
      const path = `stats_config.histogram_bucket_settings[${i}].match`;
      const match = buildStringMatcher(obj(h, "match") ?? {}, path);
      if (match.kind !== "prefix" || match.ignoreCase) throw notSupported(path, "only a case-sensitive prefix matcher selects histograms here");
      return { prefix: match.value, buckets: ((h.buckets as number[] | undefined) ?? []).map(Number) };
    }),
  };
}

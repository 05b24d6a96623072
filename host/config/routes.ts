// RouteConfiguration → RouteConfigModel, with the load-time checks Envoy's RouteConfigImpl makes
// (unique domains per route config, known clusters when validate_clusters applies).
import { ConfigError, joinPath } from "./errors.js";
import { compileHeaderValue } from "./header-format.js";
import type {
  DirectResponseModel,
  HeaderMatcherModel,
  HeaderMutationModel,
  HeaderValueOptionModel,
  RetryPolicyModel,
  RouteActionModel,
  RouteConfigModel,
  RouteMatchModel,
  RouteModel,
  StringMatcherModel,
  VirtualHostModel,
} from "./model.js";
import type { JsonObject } from "./proto-json.js";
import { arr, bool, compileFullMatch, durationMs, num, obj, str, strs } from "./read.js";
import { readFileSync } from "node:fs";

/** Envoy's default route timeout (RouteAction.timeout unset). */
export const DEFAULT_ROUTE_TIMEOUT_MS = 15_000;

export function buildRouteConfig(rc: JsonObject, path: string, clusterNames: ReadonlySet<string>): RouteConfigModel {
  // RouteConfiguration.validate_clusters defaults to true for a route_config given statically in
  // the HCM (Envoy route/config_impl.cc), so an unknown cluster fails the load.
  const validateClusters = (rc.validate_clusters as boolean | undefined) ?? true;
  const seenDomains = new Map<string, string>();
  const virtualHosts = arr(rc, "virtual_hosts").map((vh, i) => {
    const vpath = joinPath(joinPath(path, "virtual_hosts"), i);
    const model = buildVirtualHost(vh, vpath, validateClusters ? clusterNames : undefined);
    model.domains.forEach((d, j) => {
      const key = d.toLowerCase();
      const prev = seenDomains.get(key);
      if (prev !== undefined) {
        throw new ConfigError(
          `${joinPath(joinPath(vpath, "domains"), j)}: only unique values for domains are permitted; duplicate entry of domain ${d} (also in virtual host ${prev})`,
        );
      }
      seenDomains.set(key, model.name);
    });
    return model;
  });
  return {
    name: str(rc, "name"),
    virtualHosts,
    internalOnlyHeaders: strs(rc, "internal_only_headers").map((h) => h.toLowerCase()),
    headers: buildHeaderMutation(rc, path),
  };
}

function buildVirtualHost(vh: JsonObject, path: string, clusters: ReadonlySet<string> | undefined): VirtualHostModel {
  const retry = obj(vh, "retry_policy");
  return {
    name: str(vh, "name"),
    domains: strs(vh, "domains"),
    routes: arr(vh, "routes").map((r, i) => buildRoute(r, joinPath(joinPath(path, "routes"), i), clusters)),
    includeRequestAttemptCount: bool(vh, "include_request_attempt_count"),
    includeAttemptCountInResponse: bool(vh, "include_attempt_count_in_response"),
    retryPolicy: retry ? buildRetryPolicy(retry) : undefined,
    metadata: obj(vh, "metadata"),
    headers: buildHeaderMutation(vh, path),
  };
}

function buildRoute(r: JsonObject, path: string, clusters: ReadonlySet<string> | undefined): RouteModel {
  const action = obj(r, "route");
  const direct = obj(r, "direct_response");
  let built: RouteActionModel | DirectResponseModel;
  if (action) built = buildRouteAction(action, joinPath(path, "route"), clusters);
  else if (direct) built = buildDirectResponse(direct, joinPath(path, "direct_response"));
  else throw new ConfigError(`${path}: a route needs route or direct_response (the local proxy supports no other action)`, path);
  return {
    name: str(r, "name"),
    match: buildRouteMatch(obj(r, "match") ?? {}, joinPath(path, "match")),
    action: built,
    metadata: obj(r, "metadata"),
    headers: buildHeaderMutation(r, path),
  };
}

function buildRouteMatch(m: JsonObject, path: string): RouteMatchModel {
  let p: RouteMatchModel["path"];
  if (m.prefix !== undefined) p = { kind: "prefix", value: str(m, "prefix") };
  else if (m.path !== undefined) p = { kind: "path", value: str(m, "path") };
  else if (m.safe_regex !== undefined) p = { kind: "safe_regex", regex: compileFullMatch(str(obj(m, "safe_regex")!, "regex"), joinPath(path, "safe_regex.regex")) };
  else throw new ConfigError(`${path}: one of prefix, path or safe_regex is required`, path);
  return {
    path: p,
    caseSensitive: bool(m, "case_sensitive", true),
    headers: arr(m, "headers").map((h, i) => buildHeaderMatcher(h, joinPath(joinPath(path, "headers"), i))),
  };
}

function buildHeaderMatcher(h: JsonObject, path: string): HeaderMatcherModel {
  const base = { name: str(h, "name").toLowerCase(), invert: bool(h, "invert_match"), treatMissingAsEmpty: bool(h, "treat_missing_header_as_empty") };
  const literal = (kind: "exact" | "prefix" | "suffix" | "contains", value: unknown): HeaderMatcherModel => ({
    ...base,
    match: { kind: "string", matcher: { kind, value: String(value), ignoreCase: false } },
  });
  if (h.exact_match !== undefined) return literal("exact", h.exact_match);
  if (h.prefix_match !== undefined) return literal("prefix", h.prefix_match);
  if (h.suffix_match !== undefined) return literal("suffix", h.suffix_match);
  if (h.contains_match !== undefined) return literal("contains", h.contains_match);
  if (h.safe_regex_match !== undefined) {
    return { ...base, match: { kind: "string", matcher: { kind: "safe_regex", regex: compileFullMatch(str(obj(h, "safe_regex_match")!, "regex"), joinPath(path, "safe_regex_match.regex")) } } };
  }
  if (h.string_match !== undefined) return { ...base, match: { kind: "string", matcher: buildStringMatcher(obj(h, "string_match")!, joinPath(path, "string_match")) } };
  // present_match, or no match specifier at all: Envoy treats both as a presence check.
  return { ...base, match: { kind: "present", present: bool(h, "present_match", true) } };
}

export function buildStringMatcher(s: JsonObject, path: string): StringMatcherModel {
  const ignoreCase = bool(s, "ignore_case");
  for (const kind of ["exact", "prefix", "suffix", "contains"] as const) {
    if (s[kind] !== undefined) return { kind, value: String(s[kind]), ignoreCase };
  }
  if (s.safe_regex !== undefined) return { kind: "safe_regex", regex: compileFullMatch(str(obj(s, "safe_regex")!, "regex"), joinPath(path, "safe_regex.regex")) };
  throw new ConfigError(`${path}: a string matcher needs exact, prefix, suffix, contains or safe_regex`, path);
}

function buildRouteAction(a: JsonObject, path: string, clusters: ReadonlySet<string> | undefined): RouteActionModel {
  const cluster = str(a, "cluster");
  if (!cluster) throw new ConfigError(`${path}.cluster: a cluster is required (the local proxy supports no other cluster specifier)`, `${path}.cluster`);
  if (clusters && !clusters.has(cluster)) throw new ConfigError(`${path}.cluster: route: unknown cluster '${cluster}'`, `${path}.cluster`);
  const retry = obj(a, "retry_policy");
  return {
    kind: "route",
    cluster,
    timeoutMs: durationMs(a, "timeout", DEFAULT_ROUTE_TIMEOUT_MS),
    retryPolicy: retry ? buildRetryPolicy(retry) : undefined,
    hostRewriteLiteral: a.host_rewrite_literal as string | undefined,
    autoHostRewrite: bool(a, "auto_host_rewrite"),
    prefixRewrite: a.prefix_rewrite as string | undefined,
  };
}

function buildRetryPolicy(p: JsonObject): RetryPolicyModel {
  const backOff = obj(p, "retry_back_off");
  const predicates = arr(p, "retry_host_predicate");
  return {
    retryOn: str(p, "retry_on"),
    // RetryPolicy.num_retries is a UInt32Value defaulting to 1.
    numRetries: num(p, "num_retries", 1),
    perTryTimeoutMs: durationMs(p, "per_try_timeout", 0),
    retriableStatusCodes: ((p.retriable_status_codes as number[] | undefined) ?? []).map(Number),
    baseIntervalMs: backOff ? durationMs(backOff, "base_interval", 25) : undefined,
    maxIntervalMs: backOff && backOff.max_interval !== undefined ? durationMs(backOff, "max_interval", 250) : undefined,
    previousHosts: predicates.length > 0,
    hostSelectionMaxAttempts: num(p, "host_selection_retry_max_attempts", 1),
  };
}

function buildDirectResponse(d: JsonObject, path: string): DirectResponseModel {
  const body = obj(d, "body");
  return { kind: "direct_response", status: num(d, "status"), body: body ? readDataSource(body, joinPath(path, "body")) : undefined };
}

/** envoy.config.core.v3.DataSource: filename, inline_bytes or inline_string. */
export function readDataSource(ds: JsonObject, path: string): Buffer {
  if (ds.inline_string !== undefined) return Buffer.from(String(ds.inline_string), "utf8");
  if (ds.inline_bytes !== undefined) return Buffer.from(String(ds.inline_bytes), "base64");
  const filename = str(ds, "filename");
  try {
    return readFileSync(filename);
  } catch (e) {
    throw new ConfigError(`${path}.filename: cannot read ${JSON.stringify(filename)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, `${path}.filename`);
  }
}

function buildHeaderMutation(o: JsonObject, path: string): HeaderMutationModel {
  const options = (k: string): HeaderValueOptionModel[] =>
    arr(o, k).map((h, i) => buildHeaderValueOption(h, joinPath(joinPath(path, k), i)));
  return {
    requestHeadersToAdd: options("request_headers_to_add"),
    requestHeadersToRemove: strs(o, "request_headers_to_remove").map((h) => h.toLowerCase()),
    responseHeadersToAdd: options("response_headers_to_add"),
    responseHeadersToRemove: strs(o, "response_headers_to_remove").map((h) => h.toLowerCase()),
  };
}

function buildHeaderValueOption(h: JsonObject, path: string): HeaderValueOptionModel {
  const header = obj(h, "header") ?? {};
  if (h.append !== undefined && h.append_action !== undefined) {
    throw new ConfigError(`${path}: both append and append_action are set, it's disallowed`, path);
  }
  // The deprecated `append` (default true) maps onto append_action as in Envoy's HeaderParser.
  const appendAction =
    h.append !== undefined
      ? h.append
        ? "APPEND_IF_EXISTS_OR_ADD"
        : "OVERWRITE_IF_EXISTS_OR_ADD"
      : ((h.append_action as HeaderValueOptionModel["appendAction"] | undefined) ?? "APPEND_IF_EXISTS_OR_ADD");
  return {
    key: str(header, "key").toLowerCase(),
    value: compileHeaderValue(str(header, "value"), joinPath(path, "header.value")),
    appendAction,
    keepEmptyValue: bool(h, "keep_empty_value"),
  };
}

// The retry-headers plugin: per request, sanitize the client's router control headers, then set
// the headers of the first matching rule; per response, expose the number of upstream attempts and
// remove internal response headers. The router (Envoy's or the local proxy's) does the retrying.
import {
  Action, HttpContext, MapType, RootContext, getHeaderMapPairs, getPropertyUint64Or, logDebug, logError, logInfo,
  WasmResult, removeHeaderMapValue, removeHeaderMapValueBytes, replaceHeaderMapValueBytes,
} from "proxy-wasm-as";
import { ClientHeaders, isTrustedSource, stripControlHeaders, validateControlHeaders } from "./client-headers";
import { RetryHeadersConfig, parseConfig } from "./config";
import {
  Control, HEDGE_ON_PER_TRY_TIMEOUT, MAX_RETRIES, RETRIABLE_HEADER_NAMES, RETRIABLE_STATUS_CODES, RETRY_GRPC_ON, RETRY_ON,
  UPSTREAM_RQ_PER_TRY_TIMEOUT_MS, UPSTREAM_RQ_TIMEOUT_MS,
} from "./envoy-values";
import { RetryHeadersMetrics } from "./metrics";
import { RequestView, requestHeaderBytes } from "./request-view";
import { RetryHeaderSet, Rule, matchesAny } from "./rules";

function encode(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

const RETRY_ON_BYTES = encode(RETRY_ON);
const RETRY_GRPC_ON_BYTES = encode(RETRY_GRPC_ON);
const MAX_RETRIES_BYTES = encode(MAX_RETRIES);
const RETRIABLE_STATUS_CODES_BYTES = encode(RETRIABLE_STATUS_CODES);
const RETRIABLE_HEADER_NAMES_BYTES = encode(RETRIABLE_HEADER_NAMES);
const TIMEOUT_BYTES = encode(UPSTREAM_RQ_TIMEOUT_MS);
const PER_TRY_TIMEOUT_BYTES = encode(UPSTREAM_RQ_PER_TRY_TIMEOUT_MS);
const HEDGE_BYTES = encode(HEDGE_ON_PER_TRY_TIMEOUT);
const ATTEMPT_COUNT_PATH: string[] = ["upstream", "request_attempt_count"];
/** Attempt counts with a pre-encoded header value; larger ones are formatted when they occur. */
const ENCODED_ATTEMPTS: i32 = 16;

export class RetryHeadersRoot extends RootContext {
  config: RetryHeadersConfig | null = null;
  readonly view: RequestView = new RequestView();
  readonly client: ClientHeaders = new ClientHeaders();
  readonly metrics: RetryHeadersMetrics = new RetryHeadersMetrics();
  attemptValues: ArrayBuffer[] = [];

  onConfigure(pluginConfigurationSize: u32): bool {
    const text = this.getPluginConfigurationString();
    const result = parseConfig(text === null ? "" : text);
    if (result.config === null) {
      logError("retry-headers: invalid plugin configuration: ", result.error);
      return false;
    }
    const config = result.config!;
    this.config = config;
    this.metrics.define();
    const values = new Array<ArrayBuffer>();
    for (let n = 0; n <= ENCODED_ATTEMPTS; n++) values.push(encode(n.toString()));
    this.attemptValues = values;
    logInfo("retry-headers: configured with ", config.rules.length.toString(), " rule(s)");
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    // Without a configuration (configure failed) traffic passes untouched, as Envoy fails it anyway.
    return this.config === null ? null : new RetryHeadersStream(this);
  }

  attemptValue(n: u64): ArrayBuffer {
    return n <= <u64>ENCODED_ATTEMPTS ? unchecked(this.attemptValues[<i32>n]) : encode(n.toString());
  }
}

function firstMatchingRule(rules: Rule[], view: RequestView): Rule | null {
  for (let i = 0, n = rules.length; i < n; i++) {
    const rule = unchecked(rules[i]);
    if (rule.match.matches(view)) return rule;
  }
  return null;
}

/** Sets `name` unless the (trusted) client already set it; true if set. */
function setUnlessKept(kept: i32, bit: i32, name: ArrayBuffer, value: ArrayBuffer | null): bool {
  if (value === null || (kept & bit) != 0) return false;
  return replaceHeaderMapValueBytes(MapType.HttpRequestHeaders, name, value) == WasmResult.Ok;
}

class RetryHeadersStream extends HttpContext {
  constructor(private readonly root: RetryHeadersRoot) {
    super();
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    const root = this.root;
    const config = root.config!;
    const view = root.view;
    view.reset();
    const client = root.client;
    client.reset();
    const rule = firstMatchingRule(config.rules, view);
    if (isTrustedSource(config) || !config.stripUntrusted) {
      validateControlHeaders(config, rule === null ? -1 : rule.timeoutMs, client);
    } else {
      stripControlHeaders(client);
    }
    const metrics = root.metrics;
    if (client.stripped > 0) metrics.stripped.increment(client.stripped);
    if (client.invalid > 0) metrics.invalid.increment(client.invalid);
    if (client.clamped > 0) metrics.clamped.increment(client.clamped);
    if (rule !== null && this.applyRule(rule, config, view, client.kept)) {
      metrics.injected.increment();
      logDebug("retry-headers: rule ", rule.name, " applied");
    }
    return Action.Continue;
  }

  /** The rule's headers for this request's class; true if any was set. */
  private applyRule(rule: Rule, config: RetryHeadersConfig, view: RequestView, kept: i32): bool {
    let set: RetryHeaderSet = rule.idempotent;
    if (rule.nonIdempotent !== rule.idempotent && !this.isIdempotent(config, view)) set = rule.nonIdempotent;
    if (config.maxRetryBodyBytes > 0 && (set.retryOn !== null || set.retryGrpcOn !== null)) {
      // Envoy abandons retries of a request whose body outgrows its buffer (router.cc decodeData,
      // retry_or_shadow_abandoned), and answers 507 if that happens during a backoff.
      if (view.contentLength() > config.maxRetryBodyBytes) set = rule.none;
    }
    let count = 0;
    if (setUnlessKept(kept, Control.RetryOn, RETRY_ON_BYTES, set.retryOn)) count++;
    if (set.retryGrpcOn !== null && view.isGrpc && setUnlessKept(kept, Control.RetryGrpcOn, RETRY_GRPC_ON_BYTES, set.retryGrpcOn)) count++;
    if (setUnlessKept(kept, Control.MaxRetries, MAX_RETRIES_BYTES, set.maxRetries)) count++;
    if (setUnlessKept(kept, Control.RetriableStatusCodes, RETRIABLE_STATUS_CODES_BYTES, set.retriableStatusCodes)) count++;
    if (setUnlessKept(kept, Control.RetriableHeaderNames, RETRIABLE_HEADER_NAMES_BYTES, set.retriableHeaderNames)) count++;
    if (setUnlessKept(kept, Control.Hedge, HEDGE_BYTES, set.hedgeOnPerTryTimeout)) count++;
    if (setUnlessKept(kept, Control.Timeout, TIMEOUT_BYTES, rule.timeout)) count++;
    if (setUnlessKept(kept, Control.PerTryTimeout, PER_TRY_TIMEOUT_BYTES, rule.perTryTimeout)) count++;
    return count > 0;
  }

  private isIdempotent(config: RetryHeadersConfig, view: RequestView): bool {
    if (matchesAny(config.idempotentMethods, view.method)) return true;
    const key = config.idempotencyKeyHeader;
    return key !== null && requestHeaderBytes(key) !== null;
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): Action {
    const root = this.root;
    const config = root.config!;
    stripResponseHeaders(config);
    const attempts = getPropertyUint64Or(ATTEMPT_COUNT_PATH, 0);
    // 0 or absent: no upstream attempt (a local reply before the router), as Envoy leaves the header out.
    if (attempts == 0) return Action.Continue;
    root.metrics.attempts.record(attempts);
    if (config.exposeAttemptCount && this.getResponseHeaderBytes(config.attemptCountHeader) === null) {
      replaceHeaderMapValueBytes(MapType.HttpResponseHeaders, config.attemptCountHeader, root.attemptValue(attempts));
    }
    return Action.Continue;
  }
}

function stripResponseHeaders(config: RetryHeadersConfig): void {
  const names = config.stripResponseHeaders;
  for (let i = 0, n = names.length; i < n; i++) removeHeaderMapValueBytes(MapType.HttpResponseHeaders, unchecked(names[i]));
  const prefixes = config.stripResponsePrefixes;
  if (prefixes.length == 0) return;
  const headers = getHeaderMapPairs(MapType.HttpResponseHeaders);
  for (let i = 0; i < headers.length; i++) {
    const key = unchecked(headers[i]).name;
    for (let k = 0; k < prefixes.length; k++) {
      if (key.startsWith(unchecked(prefixes[k]))) {
        removeHeaderMapValue(MapType.HttpResponseHeaders, key);
        break;
      }
    }
  }
}

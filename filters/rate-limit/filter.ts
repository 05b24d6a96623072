// The rate-limit filter: for each request, the first rule that matches (and whose key has a value)
// takes a token from its bucket; the decision follows Envoy's local_ratelimit filter
// (envoy source/extensions/filters/http/local_ratelimit/local_ratelimit.cc, filters.md §4.1):
// stats enabled → ok | rate_limited → enforced; when enforced, a local reply with the configured
// status, details and body "local_rate_limited"; when not enforced (shadow mode), the request goes
// on with request_headers_to_add_when_not_enforced.
import {
  Action, Counter, GrpcStatus, HttpContext, RootContext, WasmResult, getCurrentTimeNanoseconds,
  getMonotonicTimeNanoseconds, getPluginName, logError, logWarn, wasmResultName,
} from "proxy-wasm-as";
import { encodeFreeSlot } from "./bucket-slot";
import { BucketStore, BucketTable, Verdict } from "./bucket-table";
import { LocalStore, SharedDataStore } from "./bucket-stores";
import { RateLimitConfig, RateLimitHeaders, RuleConfig, parseConfig } from "./config";
import { DescriptorHash } from "./descriptor-hash";
import { RequestAttributes } from "./request-attributes";
import {
  HeaderList, HeaderSink, RETRY_AFTER, RuleHeaderValues, X_ENVOY_RATELIMITED, addRateLimitHeaders, decimal,
} from "./response-headers";

/** A configured rule with its bucket table and precomputed header values. */
class ActiveRule {
  constructor(
    readonly config: RuleConfig,
    readonly table: BucketTable,
    readonly headerValues: RuleHeaderValues,
    /** The request picks its bucket by descriptor hash (a key with placeholders, or per connection). */
    readonly keyed: bool,
  ) {}
}

/** The owner of the single bucket of a rule whose key is constant. */
const CONSTANT_OWNER: u64 = 1;

export class RateLimitRoot extends RootContext {
  config: RateLimitConfig = new RateLimitConfig();
  private rules: ActiveRule[] = [];
  private request: RequestAttributes = new RequestAttributes(-1);
  private readonly hash: DescriptorHash = new DescriptorHash();
  private monotonic: bool = true;
  // Envoy's LocalRateLimit stats (`<stat_prefix>.http_local_rate_limit.*`), plus the two ways a
  // bucket can be unavailable.
  private enabled: Counter = new Counter("");
  private ok: Counter = new Counter("");
  private rateLimited: Counter = new Counter("");
  private enforced: Counter = new Counter("");
  private casExhausted: Counter = new Counter("");
  private descriptorOverflow: Counter = new Counter("");

  onConfigure(pluginConfigurationSize: u32): bool {
    const text = this.getPluginConfigurationString();
    const parsed = parseConfig(text === null ? "" : text);
    const config = parsed.config;
    if (config === null) {
      logError("rate-limit: invalid plugin configuration: ", parsed.error);
      return false;
    }
    const plugin = getPluginName();
    const keyPrefix = "rl:" + (plugin === null ? "" : plugin) + ":";
    const rules = new Array<ActiveRule>();
    for (let i = 0; i < config.rules.length; i++) {
      const rule = config.rules[i];
      const free = encodeFreeSlot(rule.params);
      let store: BucketStore;
      if (config.perConnection) {
        store = new LocalStore(free, rule.buckets);
      } else {
        const shared = new SharedDataStore(keyPrefix + rule.name + ":" + bucketFingerprint(rule) + ":", rule.buckets);
        const result = shared.createMissing(free);
        if (result != WasmResult.Ok) {
          logError("rate-limit: cannot create the buckets of descriptor \"", rule.name, "\" in shared data: ", wasmResultName(result));
          return false;
        }
        store = shared;
      }
      const table = new BucketTable(rule.params, store, rule.buckets, config.maxCasAttempts);
      const keyed = config.perConnection || rule.template.isVariable;
      rules.push(new ActiveRule(rule, table, new RuleHeaderValues(rule.name, rule.params), keyed));
    }
    this.config = config;
    this.rules = rules;
    this.request = new RequestAttributes(config.xffNumTrustedHops);
    this.defineMetrics(config.statPrefix + ".http_local_rate_limit.");
    // Envoy's token bucket reads the monotonic clock; hosts without WASI's clock answer 0 there.
    this.monotonic = getMonotonicTimeNanoseconds() != 0;
    return true;
  }

  newHttpContext(contextId: u32): HttpContext {
    return new RateLimitStream(this);
  }

  private defineMetrics(prefix: string): void {
    this.enabled = defineCounter(prefix + "enabled");
    this.ok = defineCounter(prefix + "ok");
    this.rateLimited = defineCounter(prefix + "rate_limited");
    this.enforced = defineCounter(prefix + "enforced");
    this.casExhausted = defineCounter(prefix + "cas_exhausted");
    this.descriptorOverflow = defineCounter(prefix + "descriptor_overflow");
  }

  private nowNs(): i64 {
    return <i64>(this.monotonic ? getMonotonicTimeNanoseconds() : getCurrentTimeNanoseconds());
  }

  /** Decides a request: Continue, or Pause after sending the local reply. */
  decide(stream: RateLimitStream): Action {
    const request = this.request;
    request.reset();
    const rules = this.rules;
    for (let i = 0, n = rules.length; i < n; i++) {
      const rule = unchecked(rules[i]);
      const matcher = rule.config.matcher;
      if (matcher !== null && !matcher.matches(request)) continue;
      let owner = CONSTANT_OWNER;
      if (rule.keyed) {
        const hash = this.hash.reset();
        if (this.config.perConnection) {
          const id = request.connectionId();
          if (id < 0) continue;
          hash.addU64(<u64>id);
        }
        if (!rule.config.template.hashRequest(request, hash)) continue;
        owner = hash.owner;
      }
      return this.consult(stream, rule, owner);
    }
    return Action.Continue;
  }

  private consult(stream: RateLimitStream, rule: ActiveRule, owner: u64): Action {
    this.enabled.increment();
    stream.rule = rule;
    const table = rule.table;
    const verdict = table.acquire(owner, this.nowNs());
    if (verdict == Verdict.Allowed || verdict == Verdict.Denied) {
      stream.level = table.level;
      stream.bucketKnown = true;
      if (verdict == Verdict.Allowed) {
        this.ok.increment();
        return Action.Continue;
      }
      return this.limit(stream, rule);
    }
    // No bucket answer: failure_mode_deny decides, and the answer counts as the bucket's would.
    if (verdict == Verdict.Exhausted) this.casExhausted.increment();
    else this.descriptorOverflow.increment();
    if (!this.config.failureModeDeny) {
      this.ok.increment();
      return Action.Continue;
    }
    return this.limit(stream, rule);
  }

  private limit(stream: RateLimitStream, rule: ActiveRule): Action {
    this.rateLimited.increment();
    const config = this.config;
    if (rule.config.shadowMode) {
      const add = config.requestHeadersToAddWhenNotEnforced;
      for (let i = 0; i < add.length; i++) stream.addRequestHeader(add[i].name, add[i].value);
      return Action.Continue;
    }
    this.enforced.increment();
    const reply = new HeaderList();
    if (!config.disableXEnvoyRatelimitedHeader) reply.addHeader(X_ENVOY_RATELIMITED, "true");
    const params = rule.config.params;
    // Without a bucket state (failure_mode_deny) the next chance is unknown: a second is the hint.
    const retryAfter = stream.bucketKnown ? params.secondsUntilNextToken(stream.level) : 1;
    reply.addHeader(RETRY_AFTER, decimal(retryAfter));
    const extra = config.responseHeadersToAdd;
    for (let i = 0; i < extra.length; i++) reply.addHeader(extra[i].name, extra[i].value);
    if (stream.bucketKnown && config.rateLimitHeaders != RateLimitHeaders.Off) {
      addRateLimitHeaders(reply, rule.headerValues, params, stream.level, config.rateLimitHeaders == RateLimitHeaders.IetfDraft10);
    }
    const grpcStatus = !this.request.isGrpc()
      ? GrpcStatus.InvalidCode
      : config.rateLimitedAsResourceExhausted ? GrpcStatus.ResourceExhausted : GrpcStatus.Unavailable;
    // The reply passes back through this filter's onResponseHeaders: its headers are complete here.
    stream.replied = true;
    const sent = stream.sendLocalResponse(config.status, "local_rate_limited", "local_rate_limited", reply.headers, grpcStatus);
    if (sent == WasmResult.Ok) return Action.Pause;
    // Pausing without a reply would hold the request forever (StopAllIteration): let it go on.
    stream.replied = false;
    logWarn("rate-limit: could not send the local reply: ", wasmResultName(sent));
    return Action.Continue;
  }
}

export class RateLimitStream extends HttpContext implements HeaderSink {
  /** The rule whose bucket the request consulted, if any. */
  rule: ActiveRule | null = null;
  /** Bucket level after the decision, valid when bucketKnown. */
  level: i64 = 0;
  bucketKnown: bool = false;
  /** This filter answered the request with a local reply. */
  replied: bool = false;

  constructor(private readonly root: RateLimitRoot) {
    super();
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    return this.root.decide(this);
  }

  /** Envoy adds the x-ratelimit headers in encodeHeaders to every response of a consulted bucket. */
  onResponseHeaders(numHeaders: u32, endOfStream: bool): Action {
    const rule = this.rule;
    const mode = this.root.config.rateLimitHeaders;
    if (rule === null || !this.bucketKnown || this.replied || mode == RateLimitHeaders.Off) return Action.Continue;
    addRateLimitHeaders(this, rule.headerValues, rule.config.params, this.level, mode == RateLimitHeaders.IetfDraft10);
    return Action.Continue;
  }

  addHeader(name: string, value: string): void {
    this.addResponseHeader(name, value);
  }
}

/** A counter defined now, so that it shows (as 0) in /stats before the first request, like Envoy's. */
function defineCounter(name: string): Counter {
  const counter = new Counter(name);
  if (counter.id == 0) logWarn("rate-limit: cannot define the metric ", name);
  return counter;
}

/** Distinguishes bucket settings in shared-data keys, so a changed bucket never reads old levels. */
function bucketFingerprint(rule: RuleConfig): string {
  const h = new DescriptorHash();
  const p = rule.params;
  h.addU64(<u64>p.maxTokens);
  h.addU64(<u64>p.tokensPerFill);
  h.addU64(<u64>p.fillIntervalNs);
  h.addU64(<u64>rule.buckets);
  return ((h.value ^ (h.value >> 32)) & 0xffffffff).toString();
}

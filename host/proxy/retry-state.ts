// Envoy's RetryStateImpl (source/common/router/retry_state_impl.cc): the route's retry policy
// merged with the x-envoy-retry-on / -retry-grpc-on / -max-retries / -retriable-status-codes
// request headers (which filters may set), the retry decisions for response headers and resets,
// the cluster's retry budget (circuit breaker max_retries, default 3), and fully jittered
// exponential backoff (25 ms base, 10× cap; filters.md §3.1).
import type { RetryPolicyModel } from "../config/model.js";
import type { Timer } from "../envoy/server-context.js";
import type { HeaderMap } from "../http/header-map.js";
import type { ClusterStats } from "./stat-names.js";

export const RetryOn = {
  _5xx: 0x1,
  GatewayError: 0x2,
  ConnectFailure: 0x4,
  Retriable4xx: 0x8,
  RefusedStream: 0x10,
  RetriableStatusCodes: 0x20,
  Reset: 0x40,
  RetriableHeaders: 0x80,
  EnvoyRateLimited: 0x100,
  Http3PostConnectFailure: 0x200,
  ResetBeforeRequest: 0x400,
  GrpcCancelled: 0x800,
  GrpcDeadlineExceeded: 0x1000,
  GrpcResourceExhausted: 0x2000,
  GrpcUnavailable: 0x4000,
  GrpcInternal: 0x8000,
} as const;

const retryOnValues: Record<string, number> = {
  "5xx": RetryOn._5xx,
  "gateway-error": RetryOn.GatewayError,
  "connect-failure": RetryOn.ConnectFailure,
  "envoy-ratelimited": RetryOn.EnvoyRateLimited,
  "retriable-4xx": RetryOn.Retriable4xx,
  "refused-stream": RetryOn.RefusedStream,
  "retriable-status-codes": RetryOn.RetriableStatusCodes,
  "retriable-headers": RetryOn.RetriableHeaders,
  reset: RetryOn.Reset,
  "reset-before-request": RetryOn.ResetBeforeRequest,
  "http3-post-connect-failure": RetryOn.Http3PostConnectFailure,
};

const retryGrpcOnValues: Record<string, number> = {
  cancelled: RetryOn.GrpcCancelled,
  "deadline-exceeded": RetryOn.GrpcDeadlineExceeded,
  "resource-exhausted": RetryOn.GrpcResourceExhausted,
  unavailable: RetryOn.GrpcUnavailable,
  internal: RetryOn.GrpcInternal,
};

const grpcStatusBits: Record<number, number> = {
  1: RetryOn.GrpcCancelled,
  4: RetryOn.GrpcDeadlineExceeded,
  8: RetryOn.GrpcResourceExhausted,
  13: RetryOn.GrpcInternal,
  14: RetryOn.GrpcUnavailable,
};

/** Envoy parseRetryOn / parseRetryGrpcOn: comma list, whitespace trimmed, unknown tokens ignored. */
export function parseRetryOn(value: string, grpc = false): { bits: number; allValid: boolean } {
  const table = grpc ? retryGrpcOnValues : retryOnValues;
  let bits = 0;
  let allValid = true;
  for (const token of value.split(",").map((t) => t.trim()).filter(Boolean)) {
    const b = table[token];
    if (b === undefined) allValid = false;
    else bits |= b;
  }
  return { bits, allValid };
}

/** Envoy's retry_on also accepts gRPC tokens in the route policy (RetryPolicyImpl). */
function parsePolicyRetryOn(value: string): number {
  return parseRetryOn(value).bits | parseRetryOn(value, true).bits;
}

export type RetryDecision = "no" | "retry";
export type RetryStatus = "yes" | "no" | "no_overflow" | "no_retry_limit_exceeded";

/** Reset reasons as Envoy's Http::StreamResetReason names them (resetReasonToString). */
export type ResetReason =
  | "local connection failure"
  | "remote connection failure"
  | "connection timeout"
  | "connection termination"
  | "local reset"
  | "remote reset"
  | "protocol error"
  | "overflow";

/** Concurrent retries per cluster (Envoy's default circuit breaker max_retries). */
export const DEFAULT_MAX_RETRIES_CIRCUIT_BREAKER = 3;

/** Per-cluster count of retries waiting or in flight, the retry circuit breaker's resource. */
export class RetryBudget {
  active = 0;
  constructor(
    private readonly stats: ClusterStats,
    readonly max = DEFAULT_MAX_RETRIES_CIRCUIT_BREAKER,
  ) {}
  canCreate(): boolean {
    return this.active < this.max;
  }
  inc(): void {
    this.active++;
    this.update();
  }
  dec(): void {
    this.active--;
    this.update();
  }
  private update(): void {
    this.stats["circuit_breakers.default.rq_retry_open"].set(this.active >= this.max ? 1n : 0n);
  }
}

export interface RetryEnvironment {
  stats: ClusterStats;
  budget: RetryBudget;
  createTimer(callback: () => void): Timer;
  random(): number;
}

export class RetryState {
  private retryOn: number;
  private retriesRemaining: number;
  private readonly retriableStatusCodes: number[];
  /** x-envoy-retriable-header-names: name-only matchers (a response having the header). */
  private readonly retriableHeaderNames: string[] = [];
  private nextBackoffMs: number;
  private readonly maxIntervalMs: number;
  private timer: Timer | undefined;
  private pendingCallback: (() => void) | undefined;

  private constructor(
    policy: RetryPolicyModel | undefined,
    headers: HeaderMap,
    private readonly env: RetryEnvironment,
  ) {
    this.retryOn = policy ? parsePolicyRetryOn(policy.retryOn) : 0;
    this.retriesRemaining = policy?.numRetries ?? 1;
    this.retriableStatusCodes = [...(policy?.retriableStatusCodes ?? [])];
    const base = policy?.baseIntervalMs ?? 25;
    this.nextBackoffMs = base;
    this.maxIntervalMs = policy?.maxIntervalMs ?? base * 10;
    const retryOnHeader = headers.get("x-envoy-retry-on");
    if (retryOnHeader !== undefined) this.retryOn |= parseRetryOn(retryOnHeader).bits;
    const grpcHeader = headers.get("x-envoy-retry-grpc-on");
    if (grpcHeader !== undefined) this.retryOn |= parseRetryOn(grpcHeader, true).bits;
    const maxRetries = headers.get("x-envoy-max-retries");
    // The max retries header only counts when some retry_on is in effect, and takes precedence.
    if (this.retryOn !== 0 && maxRetries !== undefined && /^\d+$/.test(maxRetries)) this.retriesRemaining = Number(maxRetries);
    const codes = headers.get("x-envoy-retriable-status-codes");
    if (codes !== undefined) {
      for (const c of codes.split(",")) if (/^\s*\d+\s*$/.test(c)) this.retriableStatusCodes.push(Number(c));
    }
    // Envoy RetryStateImpl: each item, whitespace-stripped, becomes a name-only HeaderMatcher
    // (presence); anything richer needs the route's retriable_headers.
    const names = headers.get("x-envoy-retriable-header-names");
    if (names !== undefined) {
      for (const n of names.split(",")) if (n.trim()) this.retriableHeaderNames.push(n.trim().toLowerCase());
    }
  }

  /**
   * Envoy RetryStateImpl::create: a state only when the policy or the request headers ask for
   * retries; the retry headers are consumed either way so they never reach the upstream.
   */
  static create(policy: RetryPolicyModel | undefined, headers: HeaderMap, env: RetryEnvironment): RetryState | undefined {
    const wanted = headers.has("x-envoy-retry-on") || headers.has("x-envoy-retry-grpc-on") || (policy !== undefined && policy.retryOn.trim() !== "");
    const state = wanted ? new RetryState(policy, headers, env) : undefined;
    for (const h of [
      "x-envoy-retry-on",
      "x-envoy-retry-grpc-on",
      "x-envoy-max-retries",
      "x-envoy-hedge-on-per-try-timeout",
      "x-envoy-retriable-header-names",
      "x-envoy-retriable-status-codes",
      "x-envoy-upstream-rq-per-try-timeout-ms",
    ]) {
      headers.remove(h);
    }
    return state;
  }

  /** Retries may still happen (Envoy RetryState::enabled), so the request body is buffered. */
  get enabled(): boolean {
    return this.retryOn !== 0;
  }

  wouldRetryFromHeaders(headers: HeaderMap): RetryDecision {
    if (headers.has("x-envoy-ratelimited")) return this.retryOn & RetryOn.EnvoyRateLimited ? "retry" : "no";
    const status = Number(headers.get(":status"));
    if (this.retryOn & RetryOn._5xx && status >= 500 && status < 600) return "retry";
    if (this.retryOn & RetryOn.GatewayError && status >= 502 && status <= 504) return "retry";
    if (this.retryOn & RetryOn.Retriable4xx && status === 409) return "retry";
    if (this.retryOn & RetryOn.RetriableStatusCodes && this.retriableStatusCodes.includes(status)) return "retry";
    if (this.retryOn & RetryOn.RetriableHeaders && this.retriableHeaderNames.some((n) => headers.has(n))) return "retry";
    const grpc = headers.get("grpc-status");
    if (grpc !== undefined && /^\d+$/.test(grpc) && this.retryOn & (grpcStatusBits[Number(grpc)] ?? 0)) return "retry";
    return "no";
  }

  wouldRetryFromReset(reason: ResetReason, upstreamRequestStarted: boolean): RetryDecision {
    if (reason === "overflow") return "no";
    const connectFailure = reason === "local connection failure" || reason === "remote connection failure" || reason === "connection timeout";
    if (connectFailure && this.retryOn & RetryOn.ConnectFailure) return "retry";
    if (this.retryOn & RetryOn.ResetBeforeRequest && !upstreamRequestStarted) return "retry";
    if (this.retryOn & RetryOn.Reset) return "retry";
    // An upstream reset counts as a 5xx (it results in one).
    if (this.retryOn & (RetryOn._5xx | RetryOn.GatewayError)) return "retry";
    return "no";
  }

  shouldRetryHeaders(headers: HeaderMap, doRetry: () => void): RetryStatus {
    return this.shouldRetry(this.wouldRetryFromHeaders(headers), doRetry);
  }

  /**
   * Envoy shouldHedgeRetryPerTryTimeout: with hedging, a per-try timeout is always retried while
   * retries remain, whatever retry_on says (there is no reset to judge: the attempt goes on).
   */
  shouldHedgeRetryPerTryTimeout(doRetry: () => void): RetryStatus {
    return this.shouldRetry("retry", doRetry);
  }

  shouldRetryReset(reason: ResetReason, upstreamRequestStarted: boolean, doRetry: () => void): RetryStatus {
    return this.shouldRetry(this.wouldRetryFromReset(reason, upstreamRequestStarted), doRetry);
  }

  private shouldRetry(decision: RetryDecision, doRetry: () => void): RetryStatus {
    const { stats, budget } = this.env;
    // A callback armed by an earlier shouldRetry and no retry now: that earlier retry succeeded.
    if (this.pendingCallback && decision === "no") stats.upstream_rq_retry_success.inc();
    this.resetRetry();
    if (decision === "no") return "no";
    if (this.retriesRemaining === 0) {
      stats.upstream_rq_retry_limit_exceeded.inc();
      return "no_retry_limit_exceeded";
    }
    this.retriesRemaining--;
    if (!budget.canCreate()) {
      stats.upstream_rq_retry_overflow.inc();
      return "no_overflow";
    }
    budget.inc();
    stats.upstream_rq_retry.inc();
    this.pendingCallback = doRetry;
    this.timer = this.env.createTimer(() => {
      const cb = this.pendingCallback;
      // The budget stays held by this retry until its outcome is known (Envoy resetRetry()).
      cb?.();
    });
    this.timer.enable(this.nextBackoff());
    stats.upstream_rq_retry_backoff_exponential.inc();
    return "yes";
  }

  /**
   * Envoy JitteredExponentialBackOffStrategy: a uniformly random delay below the current interval,
   * which doubles per retry up to max_interval.
   */
  nextBackoff(): number {
    const interval = this.nextBackoffMs;
    this.nextBackoffMs = interval <= this.maxIntervalMs / 2 ? interval * 2 : this.maxIntervalMs;
    return Math.min(Math.floor(this.env.random() * interval), this.maxIntervalMs);
  }

  /** Releases the budget held by a pending or finished retry (Envoy resetRetry()). */
  resetRetry(): void {
    this.timer?.disable();
    this.timer = undefined;
    if (this.pendingCallback) {
      this.env.budget.dec();
      this.pendingCallback = undefined;
    }
  }
}

// RetryStateImpl semantics (Envoy retry_state_impl.cc, filters.md §3.1): retry_on parsing, header
// overrides, decisions per status and reset reason, the retry budget, and jittered backoff.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RetryPolicyModel } from "../../host/config/model.js";
import { HeaderMap } from "../../host/http/header-map.js";
import { NodeDispatcher } from "../../host/proxy/dispatcher.js";
import { parseRetryOn, RetryBudget, RetryState } from "../../host/proxy/retry-state.js";
import { clusterStats } from "../../host/proxy/stat-names.js";
import { MemoryStatsStore } from "../../host/stats/store.js";

function policy(over: Partial<RetryPolicyModel> = {}): RetryPolicyModel {
  return { retryOn: "", numRetries: 1, perTryTimeoutMs: 0, retriableStatusCodes: [], previousHosts: false, hostSelectionMaxAttempts: 1, ...over };
}

function env(random = () => 0.5) {
  const store = new MemoryStatsStore();
  const stats = clusterStats(store, "c");
  const d = new NodeDispatcher();
  return { store, stats, budget: new RetryBudget(stats), createTimer: (cb: () => void) => d.createTimer(cb), random };
}

const status = (code: number, extra: Array<[string, string]> = []) => new HeaderMap([[":status", String(code)], ...extra]);

describe("retry policy", () => {
  test("retry_on parsing ignores unknown tokens and whitespace", () => {
    assert.deepEqual(parseRetryOn(" 5xx , bogus,connect-failure"), { bits: 0x1 | 0x4, allValid: false });
    assert.equal(parseRetryOn("unavailable,cancelled", true).allValid, true);
  });

  test("no policy and no header: no retry state, but retry headers are still consumed", () => {
    const h = new HeaderMap([["x-envoy-max-retries", "3"], ["x-envoy-upstream-rq-per-try-timeout-ms", "5"]]);
    assert.equal(RetryState.create(undefined, h, env()), undefined);
    assert.equal(h.size, 0);
  });

  test("decisions by response status", () => {
    const s = RetryState.create(policy({ retryOn: "5xx" }), new HeaderMap(), env())!;
    assert.equal(s.wouldRetryFromHeaders(status(500)), "retry");
    assert.equal(s.wouldRetryFromHeaders(status(499)), "no");
    const g = RetryState.create(policy({ retryOn: "gateway-error,retriable-4xx" }), new HeaderMap(), env())!;
    assert.deepEqual([500, 502, 503, 504, 409, 404].map((c) => g.wouldRetryFromHeaders(status(c))), ["no", "retry", "retry", "retry", "retry", "no"]);
    const grpc = RetryState.create(undefined, new HeaderMap([["x-envoy-retry-grpc-on", "unavailable"]]), env())!;
    assert.equal(grpc.wouldRetryFromHeaders(status(200, [["grpc-status", "14"]])), "retry");
    assert.equal(grpc.wouldRetryFromHeaders(status(200, [["grpc-status", "13"]])), "no");
    const limited = RetryState.create(policy({ retryOn: "5xx" }), new HeaderMap(), env())!;
    assert.equal(limited.wouldRetryFromHeaders(status(503, [["x-envoy-ratelimited", "true"]])), "no", "x-envoy-ratelimited needs envoy-ratelimited");
  });

  test("decisions by reset reason: 5xx covers resets, connect-failure only connection failures", () => {
    const s = RetryState.create(policy({ retryOn: "5xx" }), new HeaderMap(), env())!;
    assert.equal(s.wouldRetryFromReset("connection termination", true), "retry");
    const c = RetryState.create(policy({ retryOn: "connect-failure" }), new HeaderMap(), env())!;
    assert.equal(c.wouldRetryFromReset("remote connection failure", false), "retry");
    assert.equal(c.wouldRetryFromReset("connection termination", true), "no");
    const rb = RetryState.create(policy({ retryOn: "reset-before-request" }), new HeaderMap(), env())!;
    assert.equal(rb.wouldRetryFromReset("connection termination", false), "retry");
    assert.equal(rb.wouldRetryFromReset("connection termination", true), "no");
  });

  test("x-envoy-max-retries applies only with some retry_on, and the limit is counted", () => {
    const e = env();
    const s = RetryState.create(policy({ retryOn: "5xx", numRetries: 5 }), new HeaderMap([["x-envoy-max-retries", "1"]]), e)!;
    assert.equal(s.shouldRetryHeaders(status(500), () => undefined), "yes");
    s.resetRetry();
    assert.equal(s.shouldRetryHeaders(status(500), () => undefined), "no_retry_limit_exceeded");
    assert.equal(e.stats.upstream_rq_retry.value, 1n);
    assert.equal(e.stats.upstream_rq_retry_limit_exceeded.value, 1n);
  });

  test("the cluster's retry budget (max_retries 3) overflows the fourth concurrent retry", () => {
    const e = env();
    const states = [1, 2, 3, 4].map(() => RetryState.create(policy({ retryOn: "5xx" }), new HeaderMap(), e)!);
    const results = states.map((s) => s.shouldRetryHeaders(status(503), () => undefined));
    assert.deepEqual(results, ["yes", "yes", "yes", "no_overflow"]);
    assert.equal(e.stats.upstream_rq_retry_overflow.value, 1n);
    assert.equal(e.stats["circuit_breakers.default.rq_retry_open"].value, 1n);
    for (const s of states) s.resetRetry();
    assert.equal(e.budget.active, 0);
  });

  test("fully jittered exponential backoff: below 25, 50, 100, 200 ms, then capped at 250 ms", () => {
    const high = RetryState.create(policy({ retryOn: "5xx" }), new HeaderMap(), env(() => 0.9999))!;
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => high.nextBackoff()), [24, 49, 99, 199, 249, 249]);
    const low = RetryState.create(policy({ retryOn: "5xx" }), new HeaderMap(), env(() => 0))!;
    assert.deepEqual([1, 2].map(() => low.nextBackoff()), [0, 0]);
    const custom = RetryState.create(policy({ retryOn: "5xx", baseIntervalMs: 100, maxIntervalMs: 150 }), new HeaderMap(), env(() => 0.9999))!;
    assert.deepEqual([1, 2, 3].map(() => custom.nextBackoff()), [99, 149, 149]);
  });
});

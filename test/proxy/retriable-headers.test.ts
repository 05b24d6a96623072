// x-envoy-retriable-header-names with retry_on retriable-headers (Envoy retry_state_impl.cc): each
// comma-separated, whitespace-stripped name becomes a name-only header matcher, and a response
// having any of those headers is retried. Set by the retry-headers filter (issue 7).
import assert from "node:assert/strict";
import { test } from "node:test";
import { HeaderMap } from "../../host/http/header-map.js";
import { NodeDispatcher } from "../../host/proxy/dispatcher.js";
import { RetryBudget, RetryState } from "../../host/proxy/retry-state.js";
import { clusterStats } from "../../host/proxy/stat-names.js";
import { MemoryStatsStore } from "../../host/stats/store.js";

function env() {
  const stats = clusterStats(new MemoryStatsStore(), "c");
  const d = new NodeDispatcher();
  return { stats, budget: new RetryBudget(stats), createTimer: (cb: () => void) => d.createTimer(cb), random: () => 0.5 };
}

const response = (extra: Array<[string, string]>) => new HeaderMap([[":status", "200"], ...extra]);

test("retriable-headers retries a response that has one of x-envoy-retriable-header-names", () => {
  const request = new HeaderMap([
    ["x-envoy-retry-on", "retriable-headers"],
    ["x-envoy-retriable-header-names", " X-Upstream-Retry , ,x-other"],
  ]);
  const state = RetryState.create(undefined, request, env())!;
  assert.equal(request.has("x-envoy-retriable-header-names"), false, "consumed before the upstream");
  assert.equal(state.wouldRetryFromHeaders(response([["x-upstream-retry", ""]])), "retry", "presence is enough");
  assert.equal(state.wouldRetryFromHeaders(response([["x-other", "1"]])), "retry");
  assert.equal(state.wouldRetryFromHeaders(response([["x-upstream-retry-not", "1"]])), "no");
});

test("the header names need retriable-headers among the retry conditions", () => {
  const request = new HeaderMap([
    ["x-envoy-retry-on", "5xx"],
    ["x-envoy-retriable-header-names", "x-upstream-retry"],
  ]);
  const state = RetryState.create(undefined, request, env())!;
  assert.equal(state.wouldRetryFromHeaders(response([["x-upstream-retry", "1"]])), "no");
});

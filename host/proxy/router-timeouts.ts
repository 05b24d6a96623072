// Envoy FilterUtility::finalTimeout / setTimeoutHeaders (source/common/router/router.cc): the
// route timeout, overridden by x-envoy-upstream-rq-timeout-ms, the per-try timeout from the retry
// policy or x-envoy-upstream-rq-per-try-timeout-ms (ignored unless below the global timeout), and
// the x-envoy-expected-rq-timeout-ms hint sent upstream.
import type { HeaderMap } from "../http/header-map.js";

export interface TimeoutData {
  /** 0 = no timeout. */
  globalMs: number;
  perTryMs: number;
}

/** absl::SimpleAtoi on an unsigned integer: digits, optionally surrounded by whitespace. */
export function parseUint(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = value.trim();
  return /^\+?\d+$/.test(t) ? Number(t) : undefined;
}

export function finalTimeout(routeTimeoutMs: number, policyPerTryMs: number, headers: HeaderMap, insertExpected: boolean, perTryHedging = false): TimeoutData {
  const timeout: TimeoutData = { globalMs: routeTimeoutMs, perTryMs: policyPerTryMs };
  const headerTimeout = headers.get("x-envoy-upstream-rq-timeout-ms");
  if (headerTimeout !== undefined) {
    const ms = parseUint(headerTimeout);
    if (ms !== undefined) timeout.globalMs = ms;
    headers.remove("x-envoy-upstream-rq-timeout-ms");
  }
  const perTry = headers.get("x-envoy-upstream-rq-per-try-timeout-ms");
  if (perTry !== undefined) {
    const ms = parseUint(perTry);
    if (ms !== undefined) timeout.perTryMs = ms;
    headers.remove("x-envoy-upstream-rq-per-try-timeout-ms");
  }
  if (timeout.perTryMs >= timeout.globalMs && timeout.globalMs !== 0) timeout.perTryMs = 0;
  setTimeoutHeaders(0, timeout, headers, insertExpected, perTryHedging);
  return timeout;
}

/**
 * x-envoy-expected-rq-timeout-ms: the per-try timeout if any, else what is left of the global one.
 * With hedging on per-try timeouts an attempt may run to the global timeout, so that is sent.
 */
export function setTimeoutHeaders(elapsedMs: number, timeout: TimeoutData, headers: HeaderMap, insertExpected: boolean, perTryHedging = false): void {
  let expected = (!perTryHedging && timeout.perTryMs) || timeout.globalMs;
  if (expected <= 0) return;
  if (timeout.globalMs > 0) {
    // Out of time: 0 would mean "no timeout", so Envoy sends 1 ms.
    expected = elapsedMs >= timeout.globalMs ? 1 : Math.min(expected, timeout.globalMs - elapsedMs);
  }
  if (insertExpected) headers.set("x-envoy-expected-rq-timeout-ms", String(expected));
}

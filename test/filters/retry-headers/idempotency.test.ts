// Idempotency (issue 7): requests that may not be repeated safely get only the retry conditions
// under which the upstream cannot have processed them, unless an idempotency key or the rule
// says otherwise.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { controlHeaders, send, withFilter } from "./harness.js";

async function headersFor(config: object, requests: Array<{ headers: Record<string, string>; body?: string }>): Promise<Array<Record<string, string>>> {
  let out: Array<Record<string, string>> = [];
  await withFilter(config, ({ emu }) => {
    out = requests.map((r) => controlHeaders(send(emu, r.headers, { body: r.body })));
  });
  return out;
}

const rule = {
  retry_on: "5xx,connect-failure,refused-stream,reset-before-request,retriable-status-codes",
  num_retries: 2,
  retriable_status_codes: [503],
  timeout_ms: 2000,
  per_try_timeout_ms: 500,
  hedge_on_per_try_timeout: true,
};
const full = {
  "x-envoy-retry-on": "5xx,connect-failure,refused-stream,reset-before-request,retriable-status-codes",
  "x-envoy-max-retries": "2",
  "x-envoy-retriable-status-codes": "503",
  "x-envoy-upstream-rq-timeout-ms": "2000",
  "x-envoy-upstream-rq-per-try-timeout-ms": "500",
  "x-envoy-hedge-on-per-try-timeout": "true",
};
const safe = {
  "x-envoy-retry-on": "connect-failure,refused-stream,reset-before-request",
  "x-envoy-max-retries": "2",
  "x-envoy-upstream-rq-timeout-ms": "2000",
  "x-envoy-upstream-rq-per-try-timeout-ms": "500",
};

describe("retry-headers idempotency", () => {
  test("RFC 9110 idempotent methods get all conditions; POST, PATCH and others only the safe ones, timeouts kept", async () => {
    const methods = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "POST", "PATCH", "CONNECT", "LOCK"];
    const got = await headersFor({ rules: [rule] }, methods.map((m) => ({ headers: { ":method": m } })));
    methods.forEach((m, i) => assert.deepEqual(got[i], i < 6 ? full : safe, m));
  });

  test("hedging is dropped for non-idempotent requests (it retries on per-try timeouts whatever the conditions), false is kept", async () => {
    const [post] = await headersFor({ rules: [{ retry_on: "5xx", hedge_on_per_try_timeout: false }] }, [{ headers: { ":method": "POST" } }]);
    assert.deepEqual(post, { "x-envoy-hedge-on-per-try-timeout": "false" });
  });

  test("without a safe condition left, a non-idempotent request gets no retry count either", async () => {
    const [post] = await headersFor({ rules: [{ retry_on: "5xx", num_retries: 3, timeout_ms: 100 }] }, [{ headers: { ":method": "POST" } }]);
    assert.deepEqual(post, { "x-envoy-upstream-rq-timeout-ms": "100" });
  });

  test("an idempotency-key header makes any method idempotent", async () => {
    const got = await headersFor({ rules: [rule] }, [
      { headers: { ":method": "POST", "idempotency-key": "\"8e03978e-40d5-43e8-bc93-6894a57f9324\"" } },
      { headers: { ":method": "PATCH", "Idempotency-Key": "k" } },
    ]);
    assert.deepEqual(got, [full, full]);
  });

  test("idempotency_key_header names another header, or \"\" turns the key off", async () => {
    const custom = await headersFor({ rules: [rule], idempotency_key_header: "X-Request-Key" }, [
      { headers: { ":method": "POST", "x-request-key": "1" } },
      { headers: { ":method": "POST", "idempotency-key": "1" } },
    ]);
    assert.deepEqual(custom, [full, safe]);
    const off = await headersFor({ rules: [rule], idempotency_key_header: "" }, [{ headers: { ":method": "POST", "idempotency-key": "1" } }]);
    assert.deepEqual(off, [safe]);
  });

  test("allow_non_idempotent applies the rule in full to every method", async () => {
    const got = await headersFor({ rules: [{ ...rule, allow_non_idempotent: true }] }, [{ headers: { ":method": "POST" } }]);
    assert.deepEqual(got, [full]);
  });

  test("idempotent_methods and non_idempotent_retry_on replace the defaults", async () => {
    const got = await headersFor(
      { rules: [rule], idempotent_methods: ["GET"], non_idempotent_retry_on: ["connect-failure", "retriable-status-codes"] },
      [{ headers: { ":method": "GET" } }, { headers: { ":method": "PUT" } }],
    );
    assert.deepEqual(got[0], full);
    assert.deepEqual(got[1], {
      "x-envoy-retry-on": "connect-failure,retriable-status-codes",
      "x-envoy-max-retries": "2",
      "x-envoy-retriable-status-codes": "503",
      "x-envoy-upstream-rq-timeout-ms": "2000",
      "x-envoy-upstream-rq-per-try-timeout-ms": "500",
    });
  });

  test("gRPC (always POST) gets only the configured safe gRPC conditions", async () => {
    const grpc = { ":method": "POST", "content-type": "application/grpc" };
    const none = await headersFor({ rules: [{ retry_grpc_on: "unavailable,cancelled" }] }, [{ headers: grpc }]);
    assert.deepEqual(none, [{}]);
    const some = await headersFor({ rules: [{ retry_grpc_on: "unavailable,cancelled" }], non_idempotent_retry_grpc_on: "unavailable" }, [{ headers: grpc }]);
    assert.deepEqual(some, [{ "x-envoy-retry-grpc-on": "unavailable" }]);
  });

  test("max_retry_body_bytes: a larger declared body gets no retry conditions, only the timeouts", async () => {
    const got = await headersFor({ rules: [rule], max_retry_body_bytes: 10 }, [
      { headers: { ":method": "PUT", "content-length": "10" }, body: "0123456789" },
      { headers: { ":method": "PUT", "content-length": "11" }, body: "0123456789a" },
    ]);
    assert.deepEqual(got[0], full);
    assert.deepEqual(got[1], { "x-envoy-upstream-rq-timeout-ms": "2000", "x-envoy-upstream-rq-per-try-timeout-ms": "500" });
  });
});

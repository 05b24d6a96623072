// Trust (issue 7): control headers sent by untrusted clients are removed; trusted clients (by
// source.address CIDR or a configured header) keep them, validated the way Envoy's router reads
// them and lowered to the caps; invalid values are counted and dropped.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CONTROL_HEADERS, controlHeaders, send, withFilter } from "./harness.js";

const allControlHeaders = Object.fromEntries(CONTROL_HEADERS.map((h) => [h, h.includes("retry-on") ? "5xx" : h.includes("names") ? "x-a" : h.includes("hedge") ? "true" : "100"]));
const trustedNet = { trusted_sources: { cidrs: ["10.0.0.0/8", "fd00::/8"] } };

describe("retry-headers trust", () => {
  test("an untrusted client loses every control header, each counted in retry_headers_stripped_total", () =>
    withFilter({}, ({ emu }) => {
      const got = send(emu, allControlHeaders, { source: "203.0.113.9:40000" });
      assert.deepEqual(controlHeaders(got), {});
      assert.equal(emu.counter("retry_headers_stripped_total"), BigInt(CONTROL_HEADERS.length));
      assert.equal(got["x-other"], undefined);
    }));

  test("x-envoy-max-retries: 10 from an untrusted address gets the rule's value", () =>
    withFilter({ ...trustedNet, rules: [{ retry_on: "5xx", num_retries: 2 }] }, ({ emu }) => {
      const got = controlHeaders(send(emu, { "x-envoy-max-retries": "10" }, { source: "198.51.100.7:1234" }));
      assert.deepEqual(got, { "x-envoy-retry-on": "5xx", "x-envoy-max-retries": "2" });
    }));

  test("source.address in a trusted CIDR (IPv4, IPv6, IPv4-mapped) keeps the client's headers, which win over the rule", () =>
    withFilter({ ...trustedNet, rules: [{ retry_on: "5xx", num_retries: 2, timeout_ms: 1000 }] }, ({ emu }) => {
      const client = { "x-envoy-max-retries": "1", "x-envoy-retry-on": "reset" };
      const expected = { "x-envoy-retry-on": "reset", "x-envoy-max-retries": "1", "x-envoy-upstream-rq-timeout-ms": "1000" };
      assert.deepEqual(controlHeaders(send(emu, client, { source: "10.1.2.3:5000" })), expected);
      assert.deepEqual(controlHeaders(send(emu, client, { source: "[fd12::1]:5000" })), expected);
      assert.deepEqual(controlHeaders(send(emu, client, { source: "[::ffff:10.9.9.9]:5000" })), expected);
      assert.deepEqual(controlHeaders(send(emu, client, { source: "11.0.0.1:5000" })), {
        "x-envoy-retry-on": "5xx",
        "x-envoy-max-retries": "2",
        "x-envoy-upstream-rq-timeout-ms": "1000",
      });
      assert.equal(emu.counter("retry_headers_stripped_total"), 2n);
    }));

  test("the trusted header must carry the configured value, and is removed before the upstream", () =>
    withFilter({ trusted_sources: { header: { name: "X-Mesh-Internal", value: "s3cret" } } }, ({ emu }) => {
      const trusted = send(emu, { "x-mesh-internal": "s3cret", "x-envoy-max-retries": "3" });
      assert.equal(trusted["x-envoy-max-retries"], "3");
      assert.equal(trusted["x-mesh-internal"], undefined);
      for (const wrong of ["s3cre", "s3cret!", "S3CRET", ""]) {
        const untrusted = send(emu, { "x-mesh-internal": wrong, "x-envoy-max-retries": "3" });
        assert.equal(untrusted["x-envoy-max-retries"], undefined, wrong);
        assert.equal(untrusted["x-mesh-internal"], undefined, "removed whoever sent it");
      }
    }));

  test("trusted_sources.header.remove: false forwards the trusted header", () =>
    withFilter({ trusted_sources: { header: { name: "x-mesh-internal", value: "1", remove: false } } }, ({ emu }) => {
      assert.equal(send(emu, { "x-mesh-internal": "1" })["x-mesh-internal"], "1");
    }));

  test("trusted retry conditions: unknown tokens are dropped (counted once), all-unknown drops the header", () =>
    withFilter(trustedNet, ({ emu }) => {
      const src = { source: "10.0.0.1:1" };
      assert.equal(send(emu, { "x-envoy-retry-on": " 5xx , reset" }, src)["x-envoy-retry-on"], " 5xx , reset", "valid: passed as sent");
      assert.equal(send(emu, { "x-envoy-retry-on": "5xx,timeout,reset" }, src)["x-envoy-retry-on"], "5xx,reset");
      assert.equal(send(emu, { "x-envoy-retry-on": "timeout" }, src)["x-envoy-retry-on"], undefined);
      assert.equal(send(emu, { "x-envoy-retry-grpc-on": "unavailable,5xx" }, src)["x-envoy-retry-grpc-on"], "unavailable");
      assert.equal(emu.counter("retry_headers_invalid_total"), 3n);
    }));

  test("trusted numbers: must parse as Envoy parses them; counts and timeouts are lowered to the caps", () =>
    withFilter({ ...trustedNet, caps: { max_retries: 3, timeout_ms: 5000, per_try_timeout_ms: 1000 } }, ({ emu }) => {
      const src = { source: "10.0.0.1:1" };
      const one = (h: string, v: string) => send(emu, { [h]: v }, src)[h];
      assert.equal(one("x-envoy-max-retries", "2"), "2");
      assert.equal(one("x-envoy-max-retries", "10"), "3");
      assert.equal(one("x-envoy-max-retries", "-1"), undefined);
      assert.equal(one("x-envoy-max-retries", "two"), undefined);
      assert.equal(one("x-envoy-upstream-rq-timeout-ms", "60000"), "5000");
      assert.equal(one("x-envoy-upstream-rq-timeout-ms", "0"), "5000", "0 (no timeout) is above any cap");
      assert.equal(one("x-envoy-upstream-rq-timeout-ms", "1.5"), undefined);
      assert.equal(one("x-envoy-upstream-rq-per-try-timeout-ms", "3000"), "1000");
      assert.equal(one("x-envoy-expected-rq-timeout-ms", "9000"), "5000");
      assert.equal(emu.counter("retry_headers_clamped_total"), 5n);
      assert.equal(emu.counter("retry_headers_invalid_total"), 3n);
    }));

  test("trusted per-try timeout must be below the global one (the client's, else the rule's)", () =>
    withFilter({ ...trustedNet, rules: [{ timeout_ms: 800 }] }, ({ emu }) => {
      const src = { source: "10.0.0.1:1" };
      const perTry = "x-envoy-upstream-rq-per-try-timeout-ms";
      assert.equal(send(emu, { [perTry]: "500" }, src)[perTry], "500");
      assert.equal(send(emu, { [perTry]: "800" }, src)[perTry], undefined, "not below the rule's 800");
      const both = send(emu, { [perTry]: "900", "x-envoy-upstream-rq-timeout-ms": "1000" }, src);
      assert.equal(both[perTry], "900");
      assert.equal(both["x-envoy-upstream-rq-timeout-ms"], "1000");
      assert.equal(send(emu, { [perTry]: "0" }, src)[perTry], "0", "0 = no per-try timeout, uncapped here");
      assert.equal(emu.counter("retry_headers_invalid_total"), 1n);
    }));

  test("trusted lists and flags: status codes 100-599, header names, hedge true/false, alt-response by presence", () =>
    withFilter(trustedNet, ({ emu }) => {
      const src = { source: "10.0.0.1:1" };
      const got = send(
        emu,
        {
          "x-envoy-retriable-status-codes": "503, 99,abc,429",
          "x-envoy-retriable-header-names": "X-Retry-Me,bad name",
          "x-envoy-hedge-on-per-try-timeout": "yes",
          "x-envoy-upstream-rq-timeout-alt-response": "",
        },
        src,
      );
      assert.equal(got["x-envoy-retriable-status-codes"], "503,429");
      assert.equal(got["x-envoy-retriable-header-names"], "x-retry-me");
      assert.equal(got["x-envoy-hedge-on-per-try-timeout"], undefined);
      assert.equal(got["x-envoy-upstream-rq-timeout-alt-response"], "");
      assert.equal(send(emu, { "x-envoy-hedge-on-per-try-timeout": "false" }, src)["x-envoy-hedge-on-per-try-timeout"], "false");
      assert.equal(emu.counter("retry_headers_invalid_total"), 3n);
    }));

  test("strip_untrusted: false validates and caps every client's headers instead of removing them", () =>
    withFilter({ strip_untrusted: false, caps: { max_retries: 2 } }, ({ emu }) => {
      const got = send(emu, { "x-envoy-max-retries": "9", "x-envoy-retry-on": "5xx,bogus" }, { source: "203.0.113.1:1" });
      assert.deepEqual(controlHeaders(got), { "x-envoy-max-retries": "2", "x-envoy-retry-on": "5xx" });
      assert.equal(emu.counter("retry_headers_stripped_total"), 0n);
    }));
});

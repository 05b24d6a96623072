// Rule matching (filters/retry-headers/rules.ts) in the emulator: each condition on its own, the
// AND of several, first match wins, and the headers a matching rule sets for the router.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { controlHeaders, send, withFilter, type Loaded } from "./harness.js";

const retry = { retry_on: "5xx", num_retries: 1 };
const matched = { "x-envoy-retry-on": "5xx", "x-envoy-max-retries": "1" };

const withRules = (rules: object[], run: (l: Loaded) => void | Promise<void>) => withFilter({ rules }, run);

describe("retry-headers rule matching", () => {
  test("a rule without match applies to every request", () =>
    withRules([retry], ({ emu }) => {
      assert.deepEqual(controlHeaders(send(emu, { ":path": "/anything" })), matched);
    }));

  test("route_name matches xds.route_name exactly; a request without a named route does not match", () =>
    withRules([{ match: { route_name: "orders" }, ...retry }], ({ emu }) => {
      assert.deepEqual(controlHeaders(send(emu, {}, { routeName: "orders" })), matched);
      assert.deepEqual(controlHeaders(send(emu, {}, { routeName: "orders-v2" })), {});
      assert.deepEqual(controlHeaders(send(emu, {})), {});
    }));

  test("hosts follow Envoy's domain syntax, case-insensitively, ignoring the port unless the pattern has one", () =>
    withRules(
      [
        { match: { hosts: ["api.example.com"] }, retry_on: "5xx" },
        { match: { hosts: ["*.shop.example"] }, retry_on: "reset" },
        { match: { hosts: ["internal.*"] }, retry_on: "connect-failure" },
        { match: { hosts: ["admin.example:8443"] }, retry_on: "refused-stream" },
      ],
      ({ emu }) => {
        const retryOn = (authority: string) => send(emu, { ":authority": authority })["x-envoy-retry-on"];
        assert.equal(retryOn("API.Example.com"), "5xx");
        assert.equal(retryOn("api.example.com:8080"), "5xx");
        assert.equal(retryOn("eu.shop.example"), "reset");
        assert.equal(retryOn(".shop.example"), undefined, "the wildcard never matches the empty string (Envoy domains)");
        assert.equal(retryOn("shop.example"), undefined);
        assert.equal(retryOn("internal.corp"), "connect-failure");
        assert.equal(retryOn("admin.example:8443"), "refused-stream");
        assert.equal(retryOn("admin.example"), undefined);
        assert.equal(retryOn("other.example"), undefined);
      },
    ));

  test("path_prefix compares the whole :path, path_exact the path without its query", () =>
    withRules(
      [
        { match: { path_exact: "/health" }, retry_on: "reset" },
        { match: { path_prefix: "/api/" }, retry_on: "5xx" },
      ],
      ({ emu }) => {
        const retryOn = (path: string) => send(emu, { ":path": path })["x-envoy-retry-on"];
        assert.equal(retryOn("/health"), "reset");
        assert.equal(retryOn("/health?verbose=1"), "reset");
        assert.equal(retryOn("/health/x"), undefined);
        assert.equal(retryOn("/api/orders?id=1"), "5xx");
        assert.equal(retryOn("/API/orders"), undefined, "case-sensitive, as Envoy's default");
        assert.equal(retryOn("/apiv2"), undefined);
      },
    ));

  test("path_regex must match the whole path without query (RE2 FullMatch, as Envoy's safe_regex)", () =>
    withRules([{ match: { path_regex: "/api/v[0-9]+/(orders|items)/\\d+" }, ...retry }], ({ emu }) => {
      const hit = (path: string) => send(emu, { ":path": path })["x-envoy-retry-on"] === "5xx";
      assert.equal(hit("/api/v2/orders/17"), true);
      assert.equal(hit("/api/v10/items/3?expand=all"), true);
      assert.equal(hit("/api/v2/orders/17/lines"), false, "no partial match");
      assert.equal(hit("/x/api/v2/orders/17"), false);
      assert.equal(hit("/api/vX/orders/17"), false);
    }));

  test("methods are compared exactly", () =>
    withRules([{ match: { methods: ["GET", "HEAD"] }, ...retry }], ({ emu }) => {
      assert.deepEqual(controlHeaders(send(emu, { ":method": "HEAD" })), matched);
      assert.deepEqual(controlHeaders(send(emu, { ":method": "get" })), {});
      assert.deepEqual(controlHeaders(send(emu, { ":method": "PUT" })), {});
    }));

  test("header conditions: presence, absence, exact value, pseudo-headers", () =>
    withRules(
      [
        { match: { headers: [{ name: "X-Retry-Class", exact: "critical" }] }, retry_on: "5xx" },
        { match: { headers: [{ name: "x-canary" }, { name: "x-no-retry", present: false }] }, retry_on: "reset" },
        { match: { headers: [{ name: ":scheme", exact: "https" }] }, retry_on: "connect-failure" },
      ],
      ({ emu }) => {
        const retryOn = (h: Record<string, string>) => send(emu, h)["x-envoy-retry-on"];
        assert.equal(retryOn({ "x-retry-class": "critical" }), "5xx");
        assert.equal(retryOn({ "x-retry-class": "Critical" }), undefined, "values are compared exactly");
        assert.equal(retryOn({ "x-canary": "" }), "reset", "present even when empty");
        assert.equal(retryOn({ "x-canary": "1", "x-no-retry": "1" }), undefined);
        assert.equal(retryOn({ ":scheme": "https" }), "connect-failure");
        assert.equal(retryOn({}), undefined);
      },
    ));

  test("grpc: true/false selects by content-type the way Envoy's router recognizes gRPC", () =>
    withRules(
      [
        { match: { grpc: true }, retry_on: "reset" },
        { match: { grpc: false }, retry_on: "5xx" },
      ],
      ({ emu }) => {
        const retryOn = (contentType: string) => send(emu, { "content-type": contentType })["x-envoy-retry-on"];
        assert.equal(retryOn("application/grpc"), "reset");
        assert.equal(retryOn("application/grpc+proto"), "reset");
        assert.equal(retryOn("application/grpc-web"), "5xx", "grpc-web is not gRPC to the router");
        assert.equal(retryOn("application/json"), "5xx");
      },
    ));

  test("all conditions of a rule must hold, and the first matching rule wins", () =>
    withRules(
      [
        { name: "orders-get", match: { route_name: "orders", methods: ["GET"], path_prefix: "/orders" }, retry_on: "5xx", num_retries: 3 },
        { name: "orders", match: { route_name: "orders" }, retry_on: "connect-failure", num_retries: 1 },
      ],
      ({ emu }) => {
        const h = (headers: Record<string, string>) => controlHeaders(send(emu, headers, { routeName: "orders" }));
        assert.deepEqual(h({ ":path": "/orders/1" }), { "x-envoy-retry-on": "5xx", "x-envoy-max-retries": "3" });
        assert.deepEqual(h({ ":path": "/orders/1", ":method": "DELETE" }), { "x-envoy-retry-on": "connect-failure", "x-envoy-max-retries": "1" });
        assert.deepEqual(h({ ":path": "/carts" }), { "x-envoy-retry-on": "connect-failure", "x-envoy-max-retries": "1" });
      },
    ));

  test("a matching rule sets each router header it configures, with the values Envoy parses", () =>
    withRules(
      [
        {
          retry_on: ["5xx", "retriable-status-codes", "retriable-headers"],
          num_retries: 2,
          retriable_status_codes: [503, 429],
          retriable_header_names: ["X-Upstream-Retry"],
          timeout_ms: 3000,
          per_try_timeout_ms: 800,
          hedge_on_per_try_timeout: true,
        },
      ],
      ({ emu }) => {
        assert.deepEqual(controlHeaders(send(emu, {})), {
          "x-envoy-retry-on": "5xx,retriable-status-codes,retriable-headers",
          "x-envoy-max-retries": "2",
          "x-envoy-retriable-status-codes": "503,429",
          "x-envoy-retriable-header-names": "x-upstream-retry",
          "x-envoy-upstream-rq-timeout-ms": "3000",
          "x-envoy-upstream-rq-per-try-timeout-ms": "800",
          "x-envoy-hedge-on-per-try-timeout": "true",
        });
      },
    ));

  test("x-envoy-retry-grpc-on is set on gRPC requests only", () =>
    withRules([{ retry_on: "reset", retry_grpc_on: "unavailable,cancelled", allow_non_idempotent: true }], ({ emu }) => {
      const grpc = send(emu, { ":method": "POST", "content-type": "application/grpc" });
      assert.equal(grpc["x-envoy-retry-grpc-on"], "unavailable,cancelled");
      assert.equal(grpc["x-envoy-retry-on"], "reset");
      const json = send(emu, { ":method": "POST", "content-type": "application/json" });
      assert.equal(json["x-envoy-retry-grpc-on"], undefined);
      assert.equal(json["x-envoy-retry-on"], "reset");
    }));

  test("counts requests it added headers to in retry_headers_injected_total", () =>
    withRules([{ match: { path_prefix: "/a" }, ...retry }], ({ emu }) => {
      send(emu, { ":path": "/a" });
      send(emu, { ":path": "/b" });
      send(emu, { ":path": "/a/1" });
      assert.equal(emu.counter("retry_headers_injected_total"), 2n);
    }));
});

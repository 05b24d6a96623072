// Envoy's route table lookup: virtual host by domain precedence, then the first route whose path
// specifier and header matchers match.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { loadBootstrap } from "../../host/config/bootstrap.js";
import { HeaderMap } from "../../host/http/header-map.js";
import { RouteMatcher } from "../../host/proxy/route-matcher.js";
import { bootstrap } from "../support/proxy.js";

function matcher(virtualHosts: unknown[]): RouteMatcher {
  const b = bootstrap(80) as any;
  b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts = virtualHosts;
  return new RouteMatcher(loadBootstrap({ config: { json: b, source: "t" } }).model.listeners[0]!.hcm.routeConfig);
}

const route = (name: string, match: Record<string, unknown>) => ({ name, match, route: { cluster: "upstream" } });
const req = (authority: string, path: string, extra: Array<[string, string]> = []) => new HeaderMap([[":authority", authority], [":path", path], [":method", "GET"], ...extra]);

describe("route matching", () => {
  test("virtual hosts: exact, then longest suffix wildcard, then longest prefix wildcard, then *", () => {
    const m = matcher([
      { name: "any", domains: ["*"], routes: [route("any", { prefix: "/" })] },
      { name: "exact", domains: ["api.example.com"], routes: [route("exact", { prefix: "/" })] },
      { name: "suffix", domains: ["*.example.com"], routes: [route("suffix", { prefix: "/" })] },
      { name: "longer-suffix", domains: ["*.api.example.com"], routes: [route("longer", { prefix: "/" })] },
      { name: "prefix", domains: ["api.*"], routes: [route("prefix", { prefix: "/" })] },
    ]);
    assert.equal(m.route(req("API.example.com", "/"))?.vhost.name, "exact", "host matching is case-insensitive");
    assert.equal(m.route(req("v1.api.example.com", "/"))?.vhost.name, "longer-suffix");
    assert.equal(m.route(req("www.example.com", "/"))?.vhost.name, "suffix");
    assert.equal(m.route(req("api.other", "/"))?.vhost.name, "prefix");
    assert.equal(m.route(req("example.com:8080", "/"))?.vhost.name, "any", "the port is part of the host Envoy matches");
  });

  test("no matching virtual host or route → no route", () => {
    const m = matcher([{ name: "only", domains: ["a.example"], routes: [route("r", { path: "/x" })] }]);
    assert.equal(m.route(req("b.example", "/x")), undefined);
    assert.equal(m.route(req("a.example", "/y")), undefined);
  });

  test("prefix, path (query ignored), safe_regex (full match, query ignored), case_sensitive false", () => {
    const m = matcher([
      {
        name: "vh",
        domains: ["*"],
        routes: [
          route("exact", { path: "/exact" }),
          route("regex", { safe_regex: { regex: "/items/[0-9]+" } }),
          route("ci", { prefix: "/CASE", case_sensitive: false }),
          route("prefix", { prefix: "/p" }),
        ],
      },
    ]);
    assert.equal(m.route(req("h", "/exact?x=1"))?.route.name, "exact");
    assert.equal(m.route(req("h", "/items/42?z"))?.route.name, "regex");
    assert.equal(m.route(req("h", "/items/42/more")), undefined, "safe_regex is a full match");
    assert.equal(m.route(req("h", "/case/x"))?.route.name, "ci");
    assert.equal(m.route(req("h", "/path"))?.route.name, "prefix");
  });

  test("header matchers: exact, present, string_match prefix, invert_match, repeated values comma-joined", () => {
    const m = matcher([
      {
        name: "vh",
        domains: ["*"],
        routes: [
          route("canary", { prefix: "/", headers: [{ name: "x-canary", string_match: { exact: "true" } }] }),
          route("debug", { prefix: "/", headers: [{ name: "x-debug", present_match: true }] }),
          route("v2", { prefix: "/", headers: [{ name: "x-version", string_match: { prefix: "2." } }] }),
          route("not-internal", { prefix: "/", headers: [{ name: "x-internal", string_match: { exact: "1" }, invert_match: true }] }),
          route("fallback", { prefix: "/" }),
        ],
      },
    ]);
    assert.equal(m.route(req("h", "/", [["x-canary", "true"]]))?.route.name, "canary");
    assert.equal(m.route(req("h", "/", [["x-debug", ""]]))?.route.name, "debug");
    assert.equal(m.route(req("h", "/", [["x-version", "2.1"]]))?.route.name, "v2");
    assert.equal(m.route(req("h", "/", [["x-internal", "0"]]))?.route.name, "not-internal");
    assert.equal(m.route(req("h", "/", [["x-internal", "1"]]))?.route.name, "fallback");
    assert.equal(m.route(req("h", "/"))?.route.name, "fallback", "a missing header never matches an inverted value matcher");
    assert.equal(m.route(req("h", "/", [["x-canary", "true"], ["x-canary", "x"]]))?.route.name, "fallback", "values are joined: 'true,x'");
  });
});

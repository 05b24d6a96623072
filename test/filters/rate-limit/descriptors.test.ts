// Descriptor rules: the first rule that matches (and whose key has a value) picks the bucket;
// keys come from the template; requests no rule takes fall to the default bucket, or pass.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bucket, counters, loadRateLimit, request } from "./rl-kit.js";

const limitedAfter = (emu: Parameters<typeof request>[0], n: number, headers: Record<string, string> = {}, options = {}): boolean => {
  for (let i = 0; i < n; i++) if (request(emu, headers, options).status !== 200) return false;
  return request(emu, headers, options).status === 429;
};

describe("descriptor rules", () => {
  it("gives each value of the key its own bucket", async () => {
    const { emu } = await loadRateLimit({ descriptors: [{ name: "user", key: "{header:x-user}", token_bucket: bucket(2) }] });
    assert.ok(limitedAfter(emu, 2, { "x-user": "alice" }));
    assert.ok(limitedAfter(emu, 2, { "x-user": "bob" }), "bob is not limited by alice's bucket");
    assert.equal(request(emu).status, 200, "no x-user: the rule does not apply, nothing else does");
    assert.equal(counters(emu).enabled, 6, "only requests that consulted a bucket count as enabled");
  });

  it("tries rules in order and falls back to the default token_bucket", async () => {
    const { emu } = await loadRateLimit({
      descriptors: [
        { name: "login", match: { path: "/login", methods: ["POST"] }, token_bucket: bucket(1) },
        { name: "api", match: { prefix: "/api/" }, token_bucket: bucket(3) },
      ],
      token_bucket: bucket(5),
    });
    const post = { ":method": "POST", ":path": "/login?next=/home" };
    assert.ok(limitedAfter(emu, 1, post), "the query string is not part of the path");
    assert.ok(limitedAfter(emu, 3, { ":path": "/api/items" }));
    assert.ok(limitedAfter(emu, 5, { ":path": "/login" }), "GET /login is not the login rule: default bucket");
  });

  it("matches headers, hosts and route names", async () => {
    const { emu } = await loadRateLimit({
      descriptors: [
        { name: "free", match: { headers: [{ name: "x-tier", exact: "free" }] }, token_bucket: bucket(1) },
        { name: "host", match: { hosts: ["admin.example.com"] }, token_bucket: bucket(1) },
        { name: "route", match: { route_names: ["slow-route"] }, token_bucket: bucket(1) },
      ],
    });
    assert.ok(limitedAfter(emu, 1, { "x-tier": "free" }));
    assert.equal(request(emu, { "x-tier": "paid" }).status, 200);
    assert.ok(limitedAfter(emu, 1, { ":authority": "Admin.Example.com:8443" }));
    assert.ok(limitedAfter(emu, 1, {}, { streamInfo: { routeName: "slow-route" } }));
    assert.equal(request(emu, {}, { streamInfo: { routeName: "fast-route" } }).status, 200);
  });

  it("matches and keys the source address of the connection", async () => {
    const { emu } = await loadRateLimit({
      descriptors: [{ name: "office", match: { source_cidrs: ["10.0.0.0/8"] }, key: "{source_address}", token_bucket: bucket(1) }],
    });
    const from = (ip: string) => ({ connection: { source: { ip, port: 40000 } } });
    assert.ok(limitedAfter(emu, 1, {}, from("10.1.1.1")));
    assert.equal(request(emu, {}, from("10.1.1.2")).status, 200, "another client, another bucket");
    assert.equal(request(emu, {}, from("192.168.1.1")).status, 200, "outside the range: no limit");
    assert.equal(request(emu, {}, from("192.168.1.1")).status, 200);
  });

  it("takes the client from x-forwarded-for, xff_num_trusted_hops from the right", async () => {
    const { emu } = await loadRateLimit({
      xff_num_trusted_hops: 1,
      descriptors: [{ name: "client", key: "{source_address}", token_bucket: bucket(1) }],
    });
    const via = (xff: string) => ({ "x-forwarded-for": xff });
    assert.ok(limitedAfter(emu, 1, via("198.51.100.7, 10.0.0.2")));
    assert.equal(request(emu, via("198.51.100.8, 10.0.0.2")).status, 200, "the trusted proxy's entry is skipped");
    assert.equal(request(emu, via("203.0.113.1, 198.51.100.7, 10.0.0.3")).status, 429, "same client through another proxy");
    // Too few entries: Envoy keeps the connection's peer address.
    assert.ok(limitedAfter(emu, 1, via("10.0.0.2"), { connection: { source: { ip: "192.0.2.50", port: 1 } } }));
    assert.equal(request(emu, {}, { connection: { source: { ip: "192.0.2.50", port: 2 } } }).status, 429);
  });

  it("combines placeholders and literal text in one key", async () => {
    const { emu } = await loadRateLimit({ descriptors: [{ name: "m", key: "{method} {path}", token_bucket: bucket(1) }] });
    assert.ok(limitedAfter(emu, 1, { ":method": "GET", ":path": "/a" }));
    assert.equal(request(emu, { ":method": "POST", ":path": "/a" }).status, 200);
    assert.equal(request(emu, { ":method": "GET", ":path": "/b" }).status, 200);
  });

  it("applies shadow_mode per rule", async () => {
    const { emu } = await loadRateLimit({
      descriptors: [
        { name: "new-rule", match: { prefix: "/beta/" }, token_bucket: bucket(1), shadow_mode: true },
        { name: "old-rule", token_bucket: bucket(1) },
      ],
    });
    request(emu, { ":path": "/beta/x" });
    const shadowed = request(emu, { ":path": "/beta/x" });
    assert.equal(shadowed.status, 200);
    assert.equal(shadowed.upstream?.["x-local-rate-limit-shadow"], "true");
    assert.ok(limitedAfter(emu, 1));
    assert.equal(counters(emu).enforced, 1, "only the enforced rule answered 429");
  });
});

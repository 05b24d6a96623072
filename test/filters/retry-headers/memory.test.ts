// Bounded memory under random input: 10 000 streams with random methods, paths, hosts, sources
// and client control headers through a configuration that uses every feature; after warm-up the
// VM's linear memory must not grow (garbage is collected, nothing accumulates per stream).
import assert from "node:assert/strict";
import { test } from "node:test";
import { load } from "./harness.js";
import { CONTROL_HEADERS } from "./harness.js";

const config = {
  trusted_sources: { cidrs: ["10.0.0.0/8", "fd00::/8"], header: { name: "x-internal", value: "yes" } },
  caps: { max_retries: 3, timeout_ms: 10000, per_try_timeout_ms: 5000 },
  max_retry_body_bytes: 4096,
  strip_response_headers: ["x-envoy-*", "server"],
  rules: [
    { match: { route_name: "r1", methods: ["GET"] }, retry_on: "5xx", num_retries: 2 },
    { match: { hosts: ["*.example.com"], path_regex: "/api/v[0-9]+/(orders|items)/\\d+" }, retry_on: "5xx,retriable-status-codes", retriable_status_codes: [503], timeout_ms: 3000, per_try_timeout_ms: 1000, hedge_on_per_try_timeout: true },
    { match: { grpc: true }, retry_grpc_on: "unavailable", allow_non_idempotent: true },
    { match: { headers: [{ name: "x-retry", exact: "1" }] }, retry_on: "reset", retriable_header_names: ["x-a"] },
    { match: { path_prefix: "/" }, retry_on: "connect-failure", timeout_ms: 5000 },
  ],
};

test("linear memory stops growing after warm-up over 10 000 random streams", async (t) => {
  const { emu, plugin } = await load(config);
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const junk = () => Array.from({ length: Math.floor(rnd() * 40) }, () => String.fromCharCode(32 + Math.floor(rnd() * 95))).join("");
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const headers: Record<string, string> = {
        ":method": pick(["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ":path": pick(["/api/v1/orders/1", "/api/v22/items/99?x=1", "/other/" + junk().replace(/[^a-z]/g, ""), "/"]),
        ":authority": pick(["a.example.com", "example.com", "b.example.com:8080", junk().replace(/[^a-z.]/g, "") || "h"]),
      };
      if (rnd() < 0.3) headers["content-type"] = pick(["application/grpc", "application/json"]);
      if (rnd() < 0.2) headers["x-retry"] = pick(["1", "0"]);
      if (rnd() < 0.2) headers["x-internal"] = pick(["yes", "no"]);
      if (rnd() < 0.2) headers["idempotency-key"] = junk();
      if (rnd() < 0.2) headers["content-length"] = String(Math.floor(rnd() * 8192));
      for (const h of CONTROL_HEADERS) if (rnd() < 0.15) headers[h] = pick(["5xx", "10", "abc", "0", "true", junk()]);
      const ip = rnd() < 0.5 ? `10.${Math.floor(rnd() * 255)}.0.1` : pick(["203.0.113.5", "fd00::5", "2001:db8::1"]);
      const s = emu.newStream({ connection: { source: { ip, port: 1000 } }, streamInfo: rnd() < 0.3 ? { routeName: "r1" } : {} });
      s.sendRequestHeaders(headers, { endStream: true });
      s.streamInfo.upstream.requestAttemptCount = 1 + Math.floor(rnd() * 40);
      s.respond({ status: pick([200, 503]), headers: { server: "envoy", "x-envoy-upstream-service-time": "3", "x-keep": junk() } });
      s.complete();
    }
  };
  run(2000);
  const warm = plugin.memoryBytes(0);
  run(8_000);
  assert.equal(plugin.memoryBytes(0), warm, `grew from ${warm} to ${plugin.memoryBytes(0)} bytes`);
  t.diagnostic(`linear memory ${plugin.memoryBytes(0)} bytes`);
  assert.ok(plugin.memoryBytes(0) <= 1 << 20, `${plugin.memoryBytes(0)} bytes of linear memory`);
  assert.equal(emu.histogram("retry_headers_upstream_attempts")?.count, 10_000);
  await emu.shutdown();
});

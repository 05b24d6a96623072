// A Wasm filter that traps, through the local proxy, under each failure policy
// (proxy-wasm-abi.md §6.5, Envoy's PluginConfig.failure_policy): the trap is logged as Envoy logs it
// ("Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable" and the in-VM
// backtrace from the name section); FAIL_CLOSED answers 503 for the trapping stream and every later
// one on that worker; FAIL_OPEN lets them through without the filter; FAIL_RELOAD answers 503 until
// its backoff (Envoy's default base interval, 1 s) has passed, then a fresh VM serves. In every case
// the proxy keeps serving. The filter is a WAT probe with a name section: it traps in $inject_fault
// when the request carries `x-fault`, and marks every response it sees with `x-filtered` and the
// number of requests its VM has seen.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { probe } from "../host/wat-kit.js";
import { bootstrap, logsSince, send, start, upstream, wasmFilter, withPlainListener } from "./fault-kit.js";

const trappingFilter = (): Promise<Uint8Array> =>
  probe({
    imports: ["proxy_get_header_map_value", "proxy_add_header_map_value"],
    strings: { fault: "x-fault", filtered: "x-filtered", yes: "yes", count: "x-vm-requests" },
    extra: `(global $requests (mut i32) (i32.const 0))
      (func $inject_fault unreachable)
      (func $check_request
        (global.set $requests (i32.add (global.get $requests) (i32.const 1)))
        (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) $S(fault) (i32.const 2048) (i32.const 2052)))
          (then (call $inject_fault))))`,
    callbacks: {
      proxy_on_request_headers: "(call $check_request) (i32.const 0)",
      proxy_on_response_headers: `(drop (call $proxy_add_header_map_value (i32.const 2) $S(filtered) $S(yes)))
        (i32.store8 (i32.const 3000) (i32.add (i32.const 48) (global.get $requests)))
        (drop (call $proxy_add_header_map_value (i32.const 2) $S(count) (i32.const 3000) (i32.const 1)))
        (i32.const 0)`,
    },
  });

async function proxyWithTrappingFilter(failurePolicy: string) {
  const up = await upstream((_req, res) => void res.end("from upstream"));
  const b = withPlainListener(bootstrap(up.port, { filters: [wasmFilter("trapper", await trappingFilter(), { failure_policy: failurePolicy })] }));
  const p = await start(b, { logLevel: "debug" });
  return { p, up, url: p.url("test"), plain: p.url("plain") };
}

/** Envoy's trap report: the failing callback, the V8 error, and the backtrace through $inject_fault. */
function assertTrapLogged(logs: string): void {
  assert.match(logs, /\[error\]\[wasm\] Function: proxy_on_request_headers failed: Uncaught RuntimeError: unreachable/);
  assert.match(logs, /Proxy-Wasm plugin in-VM backtrace:\n\s+0:\s+0x[0-9a-f]+ - inject_fault\n\s+1:\s+0x[0-9a-f]+ - check_request/);
}

describe("a trapping Wasm filter in the local proxy", () => {
  test("FAIL_CLOSED: 503 for the trapping request and every later one on that worker; the proxy still serves", async () => {
    const { p, up, url, plain } = await proxyWithTrappingFilter("FAIL_CLOSED");
    const ok = await send(url);
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("x-filtered"), "yes");
    const mark = p.logs.length;
    const trapped = await send(url, { headers: { "x-fault": "1" } });
    assert.equal(trapped.status, 503);
    assert.equal(trapped.headers.get("x-filtered"), null, "the failed VM runs nothing more, not even the response side");
    assertTrapLogged(logsSince(p, mark));
    assert.match(logsSince(p, mark), /\[debug\]\[http\] Sending local reply with details wasm_fail_stream/);
    assert.equal((await send(url)).status, 503, "the worker's VM stays failed (Envoy drops it from the thread-local cache)");
    assert.equal(up.received.length, 1, "no request reached the upstream after the trap");
    const other = await send(plain);
    assert.equal(other.status, 200, "a listener without the filter is unaffected");
    assert.equal(other.body, "from upstream");
    assert.equal((await send(`${p.adminUrl}/ready`)).body.trim(), "LIVE");
  });

  test("FAIL_OPEN: the trapping request and later ones go through without the filter", async () => {
    const { p, up, url } = await proxyWithTrappingFilter("FAIL_OPEN");
    const mark = p.logs.length;
    const trapped = await send(url, { headers: { "x-fault": "1" } });
    assert.equal(trapped.status, 200);
    assert.equal(trapped.body, "from upstream");
    assert.equal(trapped.headers.get("x-filtered"), null);
    assertTrapLogged(logsSince(p, mark));
    const later = await send(url);
    assert.equal(later.status, 200);
    assert.equal(later.headers.get("x-filtered"), null, "Envoy leaves a failed fail-open filter out of the chain");
    assert.equal(up.received.length, 2);
  });

  test("FAIL_RELOAD: 503 until the reload backoff passes, then a new VM serves (its request count starts again)", async () => {
    const { p, url } = await proxyWithTrappingFilter("FAIL_RELOAD");
    assert.equal((await send(url)).headers.get("x-vm-requests"), "1");
    assert.equal((await send(url)).headers.get("x-vm-requests"), "2");
    const mark = p.logs.length;
    assert.equal((await send(url, { headers: { "x-fault": "1" } })).status, 503);
    assertTrapLogged(logsSince(p, mark));
    assert.equal((await send(url)).status, 503, "within the backoff the failed VM is kept");
    // Envoy's reload_config.backoff.base_interval default (the local proxy takes no reload_config).
    await new Promise((r) => setTimeout(r, 1100));
    const reloaded = await send(url);
    assert.equal(reloaded.status, 200);
    assert.equal(reloaded.headers.get("x-filtered"), "yes");
    assert.equal(reloaded.headers.get("x-vm-requests"), "1", "a fresh VM: its globals start over");
  });
});

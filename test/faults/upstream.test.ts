// Upstream faults through the local proxy with a Wasm filter (the add-header example) in the chain,
// answered as Envoy's router answers them: nothing listening → 503 "upstream connect error or
// disconnect/reset before headers. reset reason: remote connection failure, ..." with
// upstream_cx_connect_fail; too slow → 504 "upstream request timeout" after the route timeout with
// upstream_rq_timeout; a connection closed before the response → 503 "... reset reason: connection
// termination"; closed in the middle of the body → the downstream response is cut off (Envoy resets
// the stream: the headers were already sent). Local replies pass through the filter's response side
// like any response. The router's debug log names each reset, and after every fault the proxy still
// serves a normal request.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { before, describe, test } from "node:test";
import { moduleBytes } from "../support/modules.js";
import type { StartedProxy } from "../support/proxy.js";
import { bootstrap, logsSince, send, start, upstream, wasmFilter } from "./fault-kit.js";

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

let p: StartedProxy;
let url: string;

before(async () => {
  const up = await upstream((req, res) => {
    if (req.path === "/slow") {
      const timer = setTimeout(() => res.end("late"), 3000);
      res.on("close", () => clearTimeout(timer));
    } else if (req.path === "/reset-before-headers") {
      res.socket?.destroy();
    } else if (req.path === "/reset-mid-body") {
      res.writeHead(200, { "content-type": "text/plain", "content-length": "100000" });
      res.write("the first part of a long body");
      setTimeout(() => res.socket?.destroy(), 50);
    } else {
      res.end("ok");
    }
  });
  const b = bootstrap(up.port, {
    filters: [wasmFilter("add_header", await moduleBytes("add-header"))],
    routes: [
      { match: { prefix: "/down" }, route: { cluster: "down" } },
      { match: { prefix: "/slow" }, route: { cluster: "upstream", timeout: "0.2s" } },
      { match: { prefix: "/" }, route: { cluster: "upstream" } },
    ],
  }) as any;
  const port = await closedPort();
  b.static_resources.clusters.push({
    name: "down",
    connect_timeout: "1s",
    type: "STATIC",
    load_assignment: { cluster_name: "down", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  });
  p = await start(b, { logLevel: "debug" });
  url = p.url();
});

async function assertStillServes(): Promise<void> {
  const ok = await send(`${url}/healthy`);
  assert.equal(ok.status, 200);
  assert.equal(ok.body, "ok");
  assert.equal(ok.headers.get("x-powered-by"), "proxy-wasm-as");
}

describe("upstream faults through the local proxy", () => {
  test("upstream down: 503 with Envoy's connect-failure body, upstream_cx_connect_fail, a router log line", async () => {
    const before = await p.stats();
    const mark = p.logs.length;
    const r = await send(`${url}/down`);
    assert.equal(r.status, 503);
    assert.match(r.body, /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure, transport failure reason: delayed connect error: /);
    assert.equal(r.headers.get("x-powered-by"), "proxy-wasm-as", "the local reply went through the filter's response side");
    const after = await p.stats();
    assert.equal((after.get("cluster.down.upstream_cx_connect_fail") ?? 0) - (before.get("cluster.down.upstream_cx_connect_fail") ?? 0), 1);
    assert.equal((after.get("cluster.down.upstream_rq_503") ?? 0) - (before.get("cluster.down.upstream_rq_503") ?? 0), 1);
    assert.match(logsSince(p, mark), /\[debug\]\[router\] upstream reset: reset reason: remote connection failure/);
    await assertStillServes();
  });

  test("slow upstream: 504 'upstream request timeout' at the route timeout, upstream_rq_timeout", async () => {
    const before = await p.stats();
    const mark = p.logs.length;
    const started = Date.now();
    const r = await send(`${url}/slow`);
    assert.equal(r.status, 504);
    assert.equal(r.body, "upstream request timeout");
    assert.ok(Date.now() - started < 2500, "answered at the 0.2 s route timeout, not when the upstream finally answers");
    assert.equal(r.headers.get("x-powered-by"), "proxy-wasm-as");
    const after = await p.stats();
    assert.equal((after.get("cluster.upstream.upstream_rq_timeout") ?? 0) - (before.get("cluster.upstream.upstream_rq_timeout") ?? 0), 1);
    assert.match(logsSince(p, mark), /\[debug\]\[router\] upstream timeout/);
    await assertStillServes();
  });

  test("connection closed before the response: 503 '... reset reason: connection termination'", async () => {
    const mark = p.logs.length;
    const r = await send(`${url}/reset-before-headers`);
    assert.equal(r.status, 503);
    assert.equal(r.body, "upstream connect error or disconnect/reset before headers. reset reason: connection termination");
    assert.match(logsSince(p, mark), /\[debug\]\[router\] upstream reset: reset reason: connection termination/);
    await assertStillServes();
  });

  test("connection closed in the middle of the body: the client gets the headers, then a cut-off response", async () => {
    const mark = p.logs.length;
    const outcome = await new Promise<{ status: number; received: number; cutOff: boolean }>((resolve, reject) => {
      http
        .get(`${url}/reset-mid-body`, (res) => {
          let received = 0;
          res.on("data", (c: Buffer) => (received += c.length));
          res.on("end", () => resolve({ status: res.statusCode!, received, cutOff: !res.complete }));
          res.on("error", () => resolve({ status: res.statusCode!, received, cutOff: true }));
          res.on("aborted", () => resolve({ status: res.statusCode!, received, cutOff: true }));
        })
        .on("error", reject);
    });
    assert.equal(outcome.status, 200);
    assert.ok(outcome.cutOff, "the response is not complete");
    assert.ok(outcome.received < 100000);
    assert.match(logsSince(p, mark), /\[debug\]\[router\] upstream reset: reset reason: connection termination/);
    await assertStillServes();
  });
});

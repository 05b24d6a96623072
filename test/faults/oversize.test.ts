// Oversize requests and responses through the local proxy, answered as Envoy answers them, each
// with Envoy's debug line "Sending local reply with details <details>" (filter_manager.cc), and the
// proxy serving a normal request afterwards:
// - request headers over max_request_headers_kb (default 60 KiB) → 431 from the HTTP/1 codec
//   (http1.headers_too_large), more than max_headers_count (100) → 431 (http1.too_many_headers);
// - a request body over the buffer limit while a Wasm filter buffers it (StopIterationAndBuffer)
//   → 413 "Payload Too Large" (request_payload_too_large);
// - a response body over the limit while the filter buffers it: its headers already went
//   downstream (the filter continued them), so Envoy resets the stream instead of a 500 — the
//   client sees the headers and a cut-off body (response_payload_too_large).
// The listener's per_connection_buffer_limit_bytes is lowered to 64 KiB to keep the bodies small.
import assert from "node:assert/strict";
import http from "node:http";
import { before, describe, test } from "node:test";
import { probe } from "../host/wat-kit.js";
import type { StartedProxy } from "../support/proxy.js";
import { bootstrap, logsSince, send, start, upstream, wasmFilter } from "./fault-kit.js";

const LIMIT = 64 * 1024;

/** Buffers request and response bodies until their end (proxy-wasm FilterDataStatus 1). */
const bufferingFilter = (): Promise<Uint8Array> =>
  probe({
    callbacks: {
      proxy_on_request_body: "(if (result i32) (local.get 2) (then (i32.const 0)) (else (i32.const 1)))",
      proxy_on_response_body: "(if (result i32) (local.get 2) (then (i32.const 0)) (else (i32.const 1)))",
    },
  });

let p: StartedProxy;
let url: string;
let received: Array<{ path: string; body: Buffer }>;

before(async () => {
  const up = await upstream((req, res) => {
    if (req.path === "/large-response") {
      res.setHeader("content-type", "application/octet-stream");
      res.end(Buffer.alloc(4 * LIMIT, 0x61));
    } else res.end("ok");
  });
  received = up.received;
  const b = bootstrap(up.port, { filters: [wasmFilter("buffering", await bufferingFilter())] }) as any;
  b.static_resources.listeners[0].per_connection_buffer_limit_bytes = LIMIT;
  p = await start(b, { logLevel: "debug" });
  url = p.url();
});

/** A raw HTTP/1.1 request (fetch would refuse some of these), resolving with what the client saw. */
function rawRequest(path: string, options: { headers?: http.OutgoingHttpHeaders; body?: Buffer } = {}): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: options.body ? "POST" : "GET", headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const done = (complete: boolean) => resolve({ status: res.statusCode!, body: Buffer.concat(chunks), complete });
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => done(res.complete));
      res.on("error", () => done(false));
      res.on("aborted", () => done(false));
    });
    // The proxy may answer and close before the whole request was written (431, 413); a reset
    // before any response is a failure of the test, not a hang.
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE" || req.destroyed) reject(e);
    });
    req.end(options.body);
  });
}

async function assertStillServes(): Promise<void> {
  const body = Buffer.alloc(1024, 0x62);
  const before = received.length;
  const r = await send(`${url}/after`, { method: "POST", body });
  assert.equal(r.status, 200);
  assert.equal(r.body, "ok");
  assert.deepEqual(received[before]?.body, body, "the filter buffered the small body and passed it on whole");
}

describe("oversize requests and responses through the local proxy", () => {
  test("request headers over 60 KiB: 431 from the codec, logged, the proxy still serves", async () => {
    const mark = p.logs.length;
    const r = await rawRequest("/big-headers", { headers: { "x-big": "a".repeat(61 * 1024) } });
    assert.equal(r.status, 431);
    assert.equal(r.body.toString(), "Request Header Fields Too Large");
    assert.match(logsSince(p, mark), /\[debug\]\[http\] Sending local reply with details http1\.headers_too_large/);
    await assertStillServes();
  });

  test("more than 100 request headers: 431 http1.too_many_headers", async () => {
    const headers: http.OutgoingHttpHeaders = {};
    for (let i = 0; i < 101; i++) headers[`x-h${i}`] = "v";
    const mark = p.logs.length;
    const r = await rawRequest("/many-headers", { headers });
    assert.equal(r.status, 431);
    assert.match(logsSince(p, mark), /\[debug\]\[http\] Sending local reply with details http1\.too_many_headers/);
    await assertStillServes();
  });

  test("a request body over the buffer limit while the filter buffers it: 413 Payload Too Large", async () => {
    const mark = p.logs.length;
    const r = await rawRequest("/big-body", { body: Buffer.alloc(4 * LIMIT, 0x63), headers: { "content-type": "application/octet-stream" } });
    assert.equal(r.status, 413);
    assert.equal(r.body.toString(), "Payload Too Large");
    assert.match(logsSince(p, mark), /\[debug\]\[http\] Sending local reply with details request_payload_too_large/);
    assert.ok(!received.some((x) => x.path === "/big-body" && x.body.length === 4 * LIMIT), "the oversize body never reached the upstream whole");
    await assertStillServes();
  });

  test("a response body over the limit while the filter buffers it: headers already sent, so the stream is reset", async () => {
    const mark = p.logs.length;
    const r = await rawRequest("/large-response");
    assert.equal(r.status, 200);
    assert.equal(r.complete, false, "the client sees a cut-off response, not the 4 × 64 KiB body");
    assert.ok(r.body.length < 4 * LIMIT);
    assert.match(logsSince(p, mark), /\[debug\]\[http\] Sending local reply with details response_payload_too_large/);
    await assertStillServes();
  });
});

// The router and connection manager against a controllable upstream: Envoy's added and consumed
// headers, local replies (no route, direct response, connect failure, no healthy upstream,
// timeouts) with Envoy's bodies, retries from the route policy and from x-envoy-* headers,
// attempt counts, rewrites, header mutations, streaming bodies and connection reuse.
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, describe, test } from "node:test";
import { freeLoopbackPort } from "../support/registry.js";
import { bootstrap, startProxy, type StartedProxy } from "../support/proxy.js";
import { startUpstream, type Handler, type TestUpstream } from "./upstream.js";

const running: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
after(async () => {
  for (const r of running.reverse()) await ("stop" in r ? r.stop() : r.close());
});

async function setup(handler: Handler, opts: Parameters<typeof bootstrap>[1] = {}): Promise<{ up: TestUpstream; p: StartedProxy }> {
  const up = await startUpstream(handler);
  running.push(up);
  const p = await startProxy({ config: bootstrap(up.port, opts), logLevel: "off" });
  running.push(p);
  return { up, p };
}

const ok: Handler = (_r, res) => void res.end("ok");

/** Writes raw bytes to the listener and returns what comes back until the server closes (or the first response). */
function raw(port: number, request: string, firstResponseOnly = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => s.write(request));
    let data = "";
    s.on("data", (d) => {
      data += d.toString("latin1");
      if (firstResponseOnly && data.includes("\r\n\r\n")) {
        s.destroy();
        resolve(data);
      }
    });
    s.on("close", () => resolve(data));
    s.on("error", reject);
  });
}
const internal = { use_remote_address: true, internal_address_config: { cidr_ranges: [{ address_prefix: "127.0.0.0", prefix_len: 8 }] } };

describe("router: request and response headers", () => {
  test("adds x-forwarded-proto, x-request-id and the expected timeout upstream; server, date and service time downstream", async () => {
    const { up, p } = await setup((_r, res) => {
      res.setHeader("server", "upstream-server");
      res.setHeader("x-upstream", "1");
      res.end("hello");
    });
    const res = await fetch(`${p.url()}/path?q=1`, { headers: { "x-custom": "a", connection: "keep-alive" } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "hello");
    assert.equal(res.headers.get("server"), "envoy", "server_header_transformation OVERWRITE");
    assert.match(res.headers.get("date") ?? "", /GMT$/);
    assert.match(res.headers.get("x-envoy-upstream-service-time") ?? "", /^\d+$/);
    assert.equal(res.headers.get("x-upstream"), "1");
    assert.equal(up.received[0]!.path, "/path?q=1");
    assert.equal(up.header(0, "x-forwarded-proto"), "http");
    assert.match(up.header(0, "x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(up.header(0, "x-envoy-expected-rq-timeout-ms"), "15000");
    assert.equal(up.header(0, "x-custom"), "a");
    assert.equal(up.header(0, "host"), new URL(p.url()).host, ":authority is forwarded as Host");
    assert.equal(up.header(0, "connection"), undefined, "no hop-by-hop headers upstream");
    assert.equal(up.header(0, "x-envoy-internal"), undefined);
  });

  test("external requests lose x-envoy-* control headers before the filters; internal ones keep them and get x-envoy-internal", async () => {
    const { up, p } = await setup(ok, { hcm: { use_remote_address: true } });
    await (await fetch(p.url(), { headers: { "x-envoy-retry-on": "5xx", "x-envoy-upstream-rq-timeout-ms": "10", "x-envoy-ip-tags": "x" } })).text();
    assert.equal(up.header(0, "x-envoy-ip-tags"), undefined, "cleanInternalHeaders on an edge request");
    assert.equal(up.header(0, "x-envoy-expected-rq-timeout-ms"), "15000", "the client's timeout header was not honoured");
    assert.equal(up.header(0, "x-envoy-external-address"), "127.0.0.1");
    assert.match(up.header(0, "x-forwarded-for") ?? "", /^\d+\.\d+\.\d+\.\d+$/, "XFF appended (loopback peers are replaced by the local address)");

    const { up: up2, p: p2 } = await setup(ok, { hcm: internal });
    await (await fetch(p2.url(), { headers: { "x-envoy-upstream-rq-timeout-ms": "4000", "x-envoy-ip-tags": "x" } })).text();
    assert.equal(up2.header(0, "x-envoy-internal"), "true");
    assert.equal(up2.header(0, "x-envoy-ip-tags"), "x");
    assert.equal(up2.header(0, "x-envoy-expected-rq-timeout-ms"), "4000", "x-envoy-upstream-rq-timeout-ms from an internal request sets the timeout");
    assert.equal(up2.header(0, "x-envoy-upstream-rq-timeout-ms"), undefined, "the router consumes it");
  });

  test("request ids: kept when present on a non-edge request, replaced on an edge request", async () => {
    const { up, p } = await setup(ok);
    await (await fetch(p.url(), { headers: { "x-request-id": "client-id" } })).text();
    assert.equal(up.header(0, "x-request-id"), "client-id");
    const { up: up2, p: p2 } = await setup(ok, { hcm: { use_remote_address: true } });
    await (await fetch(p2.url(), { headers: { "x-request-id": "client-id" } })).text();
    assert.notEqual(up2.header(0, "x-request-id"), "client-id");
  });

  test("host_rewrite_literal, prefix_rewrite with x-envoy-original-path, and header mutations route → vhost → global", async () => {
    const { up, p } = await setup(ok, {
      routes: [
        {
          match: { prefix: "/api/" },
          route: { cluster: "upstream", host_rewrite_literal: "backend.example", prefix_rewrite: "/v2/" },
          request_headers_to_add: [{ header: { key: "x-level", value: "route" } }],
          response_headers_to_add: [{ header: { key: "x-route", value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" } }],
        },
      ],
      vhost: {
        request_headers_to_add: [{ header: { key: "x-level", value: "vhost" } }],
        request_headers_to_remove: ["x-drop"],
        response_headers_to_add: [{ header: { key: "x-vhost", value: "v" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" }],
      },
    });
    const res = await fetch(`${p.url()}/api/items?x=1`, { headers: { "x-drop": "1" } });
    await res.text();
    assert.equal(up.received[0]!.path, "/v2/items?x=1");
    assert.equal(up.header(0, "x-envoy-original-path"), "/api/items?x=1");
    assert.equal(up.header(0, "host"), "backend.example");
    assert.deepEqual(up.received[0]!.headers.filter(([k]) => k === "x-level").map(([, v]) => v), ["route", "vhost"]);
    assert.equal(up.header(0, "x-drop"), undefined);
    assert.equal(res.headers.get("x-route"), "127.0.0.1");
    assert.equal(res.headers.get("x-vhost"), "v");
  });
});

describe("router: local replies", () => {
  test("no route → 404 with an empty body and http.<prefix>.no_route", async () => {
    const { up, p } = await setup(ok, { routes: [{ match: { path: "/only" }, route: { cluster: "upstream" } }] });
    const res = await fetch(`${p.url()}/other`);
    assert.equal(res.status, 404);
    assert.equal(await res.text(), "");
    assert.equal(up.received.length, 0);
    assert.equal((await p.stats()).get("http.test.no_route"), 1);
  });

  test("direct_response answers locally with its body as text/plain", async () => {
    const { p } = await setup(ok, { routes: [{ match: { prefix: "/" }, direct_response: { status: 418, body: { inline_string: "teapot" } } }] });
    const res = await fetch(p.url());
    assert.equal(res.status, 418);
    assert.equal(res.headers.get("content-type"), "text/plain");
    assert.equal(await res.text(), "teapot");
    assert.equal((await p.stats()).get("http.test.rq_direct_response"), 1);
  });

  test("connection refused → 503 with Envoy's body; with retry_on connect-failure the body says retried", async () => {
    const closed = await freeLoopbackPort();
    const p = await startProxy({ config: bootstrap(closed), logLevel: "off" });
    running.push(p);
    const res = await fetch(p.url());
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused");
    const retrying = await startProxy({ config: bootstrap(closed, { route: { retry_policy: { retry_on: "connect-failure", num_retries: 2 } } }), logLevel: "off" });
    running.push(retrying);
    const res2 = await fetch(retrying.url());
    assert.equal(res2.status, 503);
    assert.match(await res2.text(), /^upstream connect error or disconnect\/reset before headers\. retried and the latest reset reason: remote connection failure/);
    const stats = await retrying.stats();
    assert.equal(stats.get("cluster.upstream.upstream_rq_retry"), 2);
    assert.equal(stats.get("cluster.upstream.upstream_cx_connect_fail"), 3);
    assert.equal(stats.get("cluster.upstream.upstream_rq_503"), 1);
  });

  test("a DNS cluster with no addresses → 503 no healthy upstream", async () => {
    const p = await startProxy({
      config: bootstrap(1, { cluster: { type: "STRICT_DNS", load_assignment: { cluster_name: "u", endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "nothing.invalid", port_value: 80 } } } }] }] } } }),
      logLevel: "off",
    });
    running.push(p);
    const res = await fetch(p.url());
    assert.equal(res.status, 503);
    assert.equal(await res.text(), "no healthy upstream");
  });

  test("route timeout → 504 upstream request timeout; x-envoy-upstream-rq-timeout-alt-response → 204", async () => {
    const slow: Handler = (_r, res) => void setTimeout(() => res.end("late"), 500);
    const { p } = await setup(slow, { route: { timeout: "0.1s" }, hcm: internal });
    const res = await fetch(p.url());
    assert.equal(res.status, 504);
    assert.equal(await res.text(), "upstream request timeout");
    const alt = await fetch(p.url(), { headers: { "x-envoy-upstream-rq-timeout-alt-response": "1" } });
    assert.equal(alt.status, 204);
    const stats = await p.stats();
    assert.equal(stats.get("cluster.upstream.upstream_rq_timeout"), 2);
  });
});

describe("router: retries", () => {
  test("x-envoy-retry-on / -retriable-status-codes / -max-retries from an internal request, consumed before upstream", async () => {
    const { up, p } = await setup((_r, res, attempt) => {
      res.statusCode = attempt < 3 ? 503 : 200;
      res.end();
    }, { hcm: internal });
    const res = await fetch(p.url(), { headers: { "x-envoy-retry-on": "retriable-status-codes", "x-envoy-retriable-status-codes": "503", "x-envoy-max-retries": "1" } });
    assert.equal(res.status, 503, "one retry allowed by x-envoy-max-retries");
    assert.equal(up.received.length, 2);
    for (const h of ["x-envoy-retry-on", "x-envoy-retriable-status-codes", "x-envoy-max-retries"]) assert.equal(up.header(0, h), undefined, h);
    const stats = await p.stats();
    assert.equal(stats.get("cluster.upstream.upstream_rq_retry"), 1);
    assert.equal(stats.get("cluster.upstream.upstream_rq_retry_limit_exceeded"), 1);
  });

  test("a successful retry counts upstream_rq_retry_success; attempt counts go upstream and downstream", async () => {
    const { up, p } = await setup((_r, res, attempt) => {
      res.statusCode = attempt === 1 ? 500 : 200;
      res.end(String(attempt));
    }, { route: { retry_policy: { retry_on: "5xx", num_retries: 2 } }, vhost: { include_request_attempt_count: true, include_attempt_count_in_response: true } });
    const res = await fetch(p.url());
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "2");
    assert.equal(res.headers.get("x-envoy-attempt-count"), "2");
    assert.deepEqual([up.header(0, "x-envoy-attempt-count"), up.header(1, "x-envoy-attempt-count")], ["1", "2"]);
    const stats = await p.stats();
    assert.equal(stats.get("cluster.upstream.upstream_rq_retry"), 1);
    assert.equal(stats.get("cluster.upstream.upstream_rq_retry_success"), 1);
    assert.equal(stats.get("cluster.upstream.retry.upstream_rq_500"), 1);
    assert.equal(stats.get("cluster.upstream.upstream_rq_200"), 1);
  });

  test("per_try_timeout retries a slow attempt (retry_on 5xx) and sets the expected timeout to the per-try value", async () => {
    const { up, p } = await setup((_r, res, attempt) => {
      if (attempt === 1) setTimeout(() => res.end("slow"), 400);
      else res.end("fast");
    }, { route: { retry_policy: { retry_on: "5xx", num_retries: 1, per_try_timeout: "0.1s" } } });
    const res = await fetch(p.url());
    assert.equal(await res.text(), "fast");
    assert.equal(up.header(0, "x-envoy-expected-rq-timeout-ms"), "100");
    const stats = await p.stats();
    assert.equal(stats.get("cluster.upstream.upstream_rq_per_try_timeout"), 1);
    assert.equal(stats.get("cluster.upstream.upstream_rq_retry"), 1);
  });

  test("a request body is replayed on retry; beyond the buffer limit the retry is abandoned", async () => {
    const { up, p } = await setup((_r, res, attempt) => {
      res.statusCode = attempt === 1 ? 503 : 200;
      res.end();
    }, { route: { retry_policy: { retry_on: "5xx", num_retries: 1 } } });
    const res = await fetch(p.url(), { method: "POST", body: "payload" });
    assert.equal(res.status, 200);
    assert.deepEqual(up.received.map((r) => r.body.toString()), ["payload", "payload"]);

    const { p: small } = await setup((_r, res) => {
      res.statusCode = 503;
      res.end();
    }, { route: { retry_policy: { retry_on: "5xx", num_retries: 1 } } });
    const big = Buffer.alloc(2 * 1024 * 1024, 1);
    const res2 = await fetch(small.url(), { method: "POST", body: big });
    assert.equal(res2.status, 503);
    assert.equal((await small.stats()).get("cluster.upstream.retry_or_shadow_abandoned"), 1);
  });
});

describe("connection manager: streaming, keep-alive, protocol", () => {
  test("large bodies pass through intact both ways", async () => {
    const size = 8 * 1024 * 1024;
    const { up, p } = await setup((r, res) => {
      res.setHeader("content-length", String(size));
      const chunk = Buffer.alloc(64 * 1024, 7);
      for (let i = 0; i < size / chunk.length; i++) res.write(chunk);
      res.end();
      assert.equal(r.body.length, size);
    });
    const res = await fetch(p.url(), { method: "POST", body: Buffer.alloc(size, 3) });
    const body = Buffer.from(await res.arrayBuffer());
    assert.equal(body.length, size);
    assert.ok(body.every((b) => b === 7));
    assert.equal(up.received[0]!.body.length, size);
  });

  test("bodies are streamed, not buffered: each side sees the first chunk before the other side ends", async () => {
    // The upstream answers once the first request chunk arrives and ends only after the client has
    // read the first response chunk; the client ends its request only after that. Buffering on
    // either path would deadlock.
    let clientGotFirstChunk!: () => void;
    const firstChunkRead = new Promise<void>((r) => (clientGotFirstChunk = r));
    const server = http.createServer((req, res) => {
      req.once("data", async () => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first;");
        await firstChunkRead;
        res.end("last");
      });
      req.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    running.push({ close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }) });
    const p = await startProxy({ config: bootstrap((server.address() as { port: number }).port), logLevel: "off" });
    running.push(p);
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(p.url(), { method: "POST", headers: { "transfer-encoding": "chunked" } }, (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          if (!text) {
            clientGotFirstChunk();
            req.end("request-end");
          }
          text += d.toString();
        });
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.write("request-start;");
    });
    assert.equal(body, "first;last");
  });

  test("keep-alive on both sides: sequential requests share one downstream and one upstream connection", async () => {
    const { up, p } = await setup(ok);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        http.get(p.url(), { agent }, (res) => {
          sockets.add(res.socket);
          res.resume();
          res.on("end", resolve);
        }).on("error", reject);
      });
    }
    agent.destroy();
    assert.equal(sockets.size, 1);
    assert.equal(up.connections, 1);
    const stats = await p.stats();
    assert.equal(stats.get("cluster.upstream.upstream_cx_total"), 1);
    assert.equal(stats.get("http.test.downstream_cx_total"), 1);
    assert.equal(stats.get("http.test.downstream_rq_2xx"), 5);
  });

  test("response codes are charged per code, class and internal/external split on every response (Envoy CodeStatsImpl)", async () => {
    const status = (path: string): number => Number(path.slice(1));
    const answer: Handler = (r, res) => {
      res.statusCode = status(r.path);
      res.end();
    };
    const { p } = await setup(answer);
    for (const path of ["/200", "/404", "/200", "/201", "/404", "/200"]) assert.equal((await fetch(`${p.url()}${path}`)).status, status(path));
    const { p: p2 } = await setup(answer, { hcm: internal });
    for (const path of ["/503", "/200", "/503"]) assert.equal((await fetch(`${p2.url()}${path}`)).status, status(path));
    const external = await p.stats();
    const expected: Record<string, number | undefined> = {
      "cluster.upstream.upstream_rq_completed": 6,
      "cluster.upstream.upstream_rq_2xx": 4,
      "cluster.upstream.upstream_rq_4xx": 2,
      "cluster.upstream.upstream_rq_200": 3,
      "cluster.upstream.upstream_rq_201": 1,
      "cluster.upstream.upstream_rq_404": 2,
      "cluster.upstream.external.upstream_rq_completed": 6,
      "cluster.upstream.external.upstream_rq_2xx": 4,
      "cluster.upstream.external.upstream_rq_404": 2,
      "cluster.upstream.internal.upstream_rq_completed": undefined,
      "cluster.upstream.upstream_rq_5xx": undefined,
      "http.test.downstream_rq_completed": 6,
      "http.test.downstream_rq_4xx": 2,
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(external.get(name), value, name);
    const listener = [...external.keys()].filter((k) => k.startsWith("listener.") && k.endsWith(".http.test.downstream_rq_2xx"));
    assert.equal(listener.length, 1, "one listener-level downstream_rq_2xx");
    assert.equal(external.get(listener[0]!), 4);
    const internalStats = await p2.stats();
    assert.equal(internalStats.get("cluster.upstream.internal.upstream_rq_503"), 2);
    assert.equal(internalStats.get("cluster.upstream.internal.upstream_rq_completed"), 3);
    assert.equal(internalStats.get("cluster.upstream.upstream_rq_5xx"), 2);
    assert.equal(internalStats.get("cluster.upstream.external.upstream_rq_completed"), undefined);
  });

  test("codec-level refusals: HTTP/1.0 → 426, too many or too large headers → 431, a bad request line → 400, no Host → 400", async () => {
    const { up, p } = await setup(ok);
    const port = Number(new URL(p.url()).port);
    assert.match(await raw(port, "GET / HTTP/1.0\r\n\r\n"), /^HTTP\/1\.1 426 Upgrade Required\r\n[^]*\r\n\r\nUpgrade Required$/);
    const many = Array.from({ length: 101 }, (_, i) => `x-h${i}: v\r\n`).join("");
    assert.match(await raw(port, `GET / HTTP/1.1\r\nhost: a\r\n${many}\r\n`), /^HTTP\/1\.1 431 [^]*Request Header Fields Too Large$/);
    assert.match(await raw(port, `GET / HTTP/1.1\r\nhost: a\r\nx-big: ${"a".repeat(70 * 1024)}\r\n\r\n`), /^HTTP\/1\.1 431 [^]*server: envoy[^]*Request Header Fields Too Large$/);
    assert.match(await raw(port, "BLAH\r\n\r\n"), /^HTTP\/1\.1 400 [^]*Bad Request$/);
    const noHost = await raw(port, "GET / HTTP/1.1\r\nconnection: close\r\n\r\n");
    assert.match(noHost, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(noHost, /\r\ncontent-length: 0\r\n/);
    assert.equal(up.received.length, 0);
  });

  test("an upgrade request is refused with 403 (no upgrade_configs), through the filter chain", async () => {
    const { up, p } = await setup(ok);
    const res = await raw(Number(new URL(p.url()).port), "GET / HTTP/1.1\r\nhost: a\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n", true);
    assert.match(res, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.equal(up.received.length, 0);
    assert.equal((await p.stats()).get("http.test.downstream_rq_ws_on_non_ws_route"), 1);
  });

  test("connection: close from the client gets connection: close back; empty local replies carry content-length: 0", async () => {
    const { p } = await setup(ok, { routes: [{ match: { path: "/only" }, route: { cluster: "upstream" } }] });
    const res = await raw(Number(new URL(p.url()).port), "GET /nothing HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n");
    assert.match(res, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.match(res, /\r\ncontent-length: 0\r\n/i);
    assert.match(res, /\r\nconnection: close\r\n/i);
  });

  test("a client that goes away cancels the upstream request", async () => {
    let resolveSeen!: () => void;
    const seen = new Promise<void>((r) => (resolveSeen = r));
    const { p } = await setup((_r, res) => {
      resolveSeen();
      setTimeout(() => res.end(), 1000);
    });
    const ac = new AbortController();
    const pending = fetch(p.url(), { signal: ac.signal }).catch(() => undefined);
    await seen;
    ac.abort();
    await pending;
    await new Promise((r) => setTimeout(r, 50));
    const stats = await p.stats();
    assert.equal(stats.get("cluster.upstream.upstream_rq_cancelled"), 1);
    assert.equal(stats.get("http.test.downstream_rq_rx_reset"), 1);
  });
});

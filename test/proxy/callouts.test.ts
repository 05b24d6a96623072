// The cluster manager's async clients, as Wasm callouts use them, against real servers: HTTP
// (proxy_http_call) with the async client router's local replies, gRPC over HTTP/2
// (proxy_grpc_call / _stream) with Envoy's status mapping, and the router over an HTTP/2 cluster.
import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { loadBootstrap } from "../../host/config/bootstrap.js";
import type { ClusterModel } from "../../host/config/model.js";
import { HeaderMap } from "../../host/http/header-map.js";
import { ProxyClusterManager } from "../../host/proxy/cluster-manager.js";
import { NodeDispatcher } from "../../host/proxy/dispatcher.js";
import { frameGrpcMessage, GrpcFrameDecoder } from "../../host/proxy/grpc-client.js";
import { EnvoyLogger } from "../../host/proxy/logger.js";
import { MemoryStatsStore } from "../../host/stats/store.js";
import { freeLoopbackPort } from "../support/registry.js";
import { bootstrap, startProxy } from "../support/proxy.js";
import { startUpstream } from "./upstream.js";

const closers: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

function clusterModel(port: number, http2: boolean): ClusterModel {
  return {
    name: "callout",
    type: "STATIC",
    connectTimeoutMs: 1000,
    dnsLookupFamily: "AUTO",
    dnsRefreshRateMs: 5000,
    endpoints: [{ address: "127.0.0.1", port, hostname: "" }],
    bufferLimitBytes: 1 << 20,
    http2,
  };
}

async function clusterManager(port: number, http2 = false): Promise<{ cm: ProxyClusterManager; stats: MemoryStatsStore }> {
  const stats = new MemoryStatsStore();
  const cm = new ProxyClusterManager([clusterModel(port, http2)], stats, new EnvoyLogger("off"), new NodeDispatcher());
  await cm.initialize();
  closers.push(() => cm.close());
  return { cm, stats };
}

type Outcome = { status?: string; body?: string; failure?: string };

function httpCall(cm: ProxyClusterManager, timeoutMs = 5000, path = "/x"): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers = new HeaderMap([[":method", "GET"], [":path", path], [":authority", "callout"]]);
    cm.httpCall("callout", headers, Buffer.alloc(0), null, timeoutMs, {
      onSuccess: (h, body) => resolve({ status: h.get(":status"), body: body.toString() }),
      onFailure: (reason) => resolve({ failure: reason }),
    });
  });
}

/** A gRPC-speaking HTTP/2 server: /echo.Echo/Say answers each message with "echo:<message>". */
async function grpcServer(handler?: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<number> {
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    if (handler) return handler(stream, headers);
    const decoder = new GrpcFrameDecoder();
    stream.respond({ ":status": 200, "content-type": "application/grpc", "x-initial": "1" }, { waitForTrailers: true });
    stream.on("data", (d: Buffer) => {
      for (const m of decoder.push(d)) stream.write(frameGrpcMessage(Buffer.from(`echo:${m.toString()}:${headers["x-meta"]}`)));
    });
    stream.on("end", () => stream.end());
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

interface GrpcResult {
  initial: Array<HeaderMap>;
  messages: string[];
  trailing: Array<HeaderMap>;
  status: number;
  message: string;
}

function grpcCall(cm: ProxyClusterManager, message: string, timeoutMs = 5000): Promise<GrpcResult> {
  return new Promise((resolve) => {
    const r: GrpcResult = { initial: [], messages: [], trailing: [], status: -1, message: "" };
    const stream = cm.grpcStream("callout", "echo.Echo", "Say", new HeaderMap([["x-meta", "m"]]), timeoutMs, {
      onInitialMetadata: (m) => r.initial.push(m),
      onMessage: (m) => r.messages.push(m.toString()),
      onTrailingMetadata: (m) => r.trailing.push(m),
      onClose: (status, msg) => resolve({ ...r, status, message: msg }),
    });
    stream.send(Buffer.from(message), true);
  });
}

describe("HTTP callouts (proxy_http_call)", () => {
  test("a response with its body; the cluster's stats count it", async () => {
    const up = await startUpstream((r, res) => void res.end(`got ${r.path}`));
    closers.push(() => up.close());
    const { cm, stats } = await clusterManager(up.port);
    assert.deepEqual(await httpCall(cm), { status: "200", body: "got /x" });
    assert.equal(up.header(0, "x-envoy-expected-rq-timeout-ms"), "5000");
    assert.equal(stats.findCounter("cluster.callout.upstream_rq_200")?.value, 1n);
  });

  test("the async client's router answers locally: 503 on connect failure, 504 on timeout", async () => {
    const { cm } = await clusterManager(await freeLoopbackPort());
    const refused = await httpCall(cm);
    assert.equal(refused.status, "503");
    assert.match(refused.body ?? "", /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure/);
    const slow = await startUpstream((_r, res) => void setTimeout(() => res.end(), 500));
    closers.push(() => slow.close());
    const { cm: cm2 } = await clusterManager(slow.port);
    assert.deepEqual(await httpCall(cm2, 50), { status: "504", body: "upstream request timeout" });
  });
});

describe("gRPC callouts (proxy_grpc_call / proxy_grpc_stream) over HTTP/2", () => {
  test("a unary call: initial metadata, the message, trailing metadata, then close with OK", async () => {
    const { cm, stats } = await clusterManager(await grpcServer(), true);
    const r = await grpcCall(cm, "hi");
    assert.equal(r.status, 0);
    assert.deepEqual(r.messages, ["echo:hi:m"]);
    assert.equal(r.initial[0]?.get("x-initial"), "1");
    assert.equal(r.trailing[0]?.get("grpc-status"), "0");
    assert.equal(stats.findCounter("cluster.callout.upstream_cx_http2_total")?.value, 1n);
  });

  test("request headers: POST /service/method, :authority the cluster, grpc-timeout, the metadata", async () => {
    let seen: http2.IncomingHttpHeaders = {};
    const port = await grpcServer((stream, headers) => {
      seen = headers;
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }, { endStream: true });
    });
    const { cm } = await clusterManager(port, true);
    const r = await grpcCall(cm, "x", 1500);
    assert.equal(r.status, 0);
    assert.equal(seen[":method"], "POST");
    assert.equal(seen[":path"], "/echo.Echo/Say");
    assert.equal(seen[":authority"], "callout");
    assert.equal(seen["content-type"], "application/grpc");
    assert.equal(seen["grpc-timeout"], "1500m");
    assert.equal(seen["x-meta"], "m");
    assert.equal(r.initial[0]?.size, 0, "a trailers-only answer gives empty initial metadata");
  });

  test("grpc-status and grpc-message of the trailers close the call; a non-200 answer closes with Canceled", async () => {
    const notFound = await grpcServer((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "5", "grpc-message": "no%20such%20thing" }, { endStream: true });
    });
    const { cm } = await clusterManager(notFound, true);
    const r = await grpcCall(cm, "x");
    assert.deepEqual([r.status, r.message], [5, "no such thing"]);
    const teapot = await grpcServer((stream) => stream.respond({ ":status": 418 }, { endStream: true }));
    const { cm: cm2 } = await clusterManager(teapot, true);
    assert.equal((await grpcCall(cm2, "x")).status, 1);
  });

  test("unreachable, timed out, or an HTTP/1.1 cluster: Unavailable with the router's message", async () => {
    const { cm } = await clusterManager(await freeLoopbackPort(), true);
    const refused = await grpcCall(cm, "x");
    assert.equal(refused.status, 14);
    assert.match(refused.message, /^upstream connect error or disconnect\/reset before headers\. reset reason: remote connection failure, transport failure reason: delayed connect error: Connection refused$/);
    const silent = await grpcServer(() => undefined);
    const { cm: cm2 } = await clusterManager(silent, true);
    assert.deepEqual([(await grpcCall(cm2, "x", 100)).status, (await grpcCall(cm2, "x", 100)).message], [14, "upstream request timeout"]);
    const { cm: cm3 } = await clusterManager(silent, false);
    assert.match((await grpcCall(cm3, "x")).message, /no http2_protocol_options: gRPC needs HTTP\/2/);
  });
});

describe("the router over an HTTP/2 cluster", () => {
  test("requests become HTTP/2 streams on one pooled connection; configured by either option", async () => {
    const seen: http2.IncomingHttpHeaders[] = [];
    const server = http2.createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader("x-proto", req.httpVersion);
      res.end(`h2 ${req.url}`);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    closers.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    for (const cluster of [
      { typed_extension_protocol_options: { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": { "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config: { http2_protocol_options: {} } } } },
      { http2_protocol_options: {} },
    ]) {
      const b = bootstrap(port, { cluster });
      assert.equal(loadBootstrap({ config: { json: b, source: "t" } }).model.clusters[0]!.http2, true);
      const p = await startProxy({ config: b, logLevel: "off" });
      closers.push(() => p.stop());
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${p.url()}/a?${i}`);
        assert.equal(await res.text(), `h2 /a?${i}`);
        assert.equal(res.headers.get("x-proto"), "2.0");
      }
      const stats = await p.stats();
      assert.equal(stats.get("cluster.upstream.upstream_cx_http2_total"), 1);
      assert.equal(stats.get("cluster.upstream.upstream_rq_total"), 3);
    }
    assert.equal(seen[0]![":scheme"], "http");
    assert.match(String(seen[0]![":authority"]), /^127\.0\.0\.1:\d+$/);
    assert.equal(seen[0]!["x-envoy-expected-rq-timeout-ms"], "15000");
  });
});

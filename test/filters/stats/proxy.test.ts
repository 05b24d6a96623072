// Acceptance through two chained local proxies, each with metadata exchange then stats: client
// sidecar (envoy-client.yaml, OUTBOUND, root id stats_outbound) → server sidecar (envoy.yaml,
// INBOUND, reporter from the listener direction) → a real httpbin. Both admins' /stats/prometheus
// must show Istio's series with exact counts for mixed 200/404/503 traffic, Envoy's default
// histogram buckets, and byte sizes that match what was sent and received.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import http from "node:http";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { httpbinUnavailable, startHttpbin, type Httpbin } from "../../support/httpbin.js";
import { modulePath, projectRoot } from "../../support/modules.js";
import { startProxy, type StartedProxy } from "../../support/proxy.js";
import { STANDARD_LABELS } from "./stats-kit.js";

const here = join(projectRoot, "test", "filters", "stats");

/** Envoy's default histogram bucket bounds (filters.md §2.3, histogram_impl.cc defaultBuckets). */
const envoyDefaultBuckets = ["0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "30000", "60000", "300000", "600000", "1800000", "3600000", "+Inf"];

interface Sample {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition lines `name{a="b",...} value`. */
function parsePrometheus(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ metric: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

async function prometheus(proxy: StartedProxy): Promise<Sample[]> {
  return parsePrometheus(await (await fetch(`${proxy.adminUrl}/stats/prometheus`)).text());
}

interface Reply {
  status: number;
  rawHeaders: string[];
  body: Buffer;
}

// A persistent connection, as sidecars see: a "Connection: close" request would make the proxy's
// codec add a header to the response that is not in the map the filter measured.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function send(url: string, method = "GET", body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "text/plain", "content-length": String(Buffer.byteLength(body)) };
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode!, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Envoy's HeaderMap::byteSize(): key and value lengths summed (proxy-wasm-abi.md §2.5). */
const byteSize = (pairs: Array<[string, string]>): number => pairs.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

/**
 * response.total_size of a response as the client proxy sent it: its header map (":status" and
 * every header the client received; Envoy's HTTP/1 codec adds none of its own to a response with
 * content-length) plus the body.
 */
function responseTotalSize(r: Reply): number {
  const pairs: Array<[string, string]> = [[":status", String(r.status)]];
  for (let i = 0; i < r.rawHeaders.length; i += 2) pairs.push([r.rawHeaders[i]!.toLowerCase(), r.rawHeaders[i + 1]!]);
  return byteSize(pairs) + r.body.length;
}

/**
 * request.total_size of a request at the server proxy: the header map it forwarded (httpbin's echo
 * with ?show_env=1 lists every forwarded header; Host is the map's :authority) plus the pseudo
 * headers :method, :path and :scheme that HTTP/1 does not put on the wire, plus the body.
 */
function requestTotalSize(echo: { headers: Record<string, string>; method: string; url: string }, body: string): number {
  const pairs: Array<[string, string]> = [[":method", echo.method], [":path", new URL(echo.url).pathname + new URL(echo.url).search], [":scheme", "http"]];
  for (const [k, v] of Object.entries(echo.headers)) pairs.push([k.toLowerCase() === "host" ? ":authority" : k.toLowerCase(), v]);
  return byteSize(pairs) + Buffer.byteLength(body);
}

describe("stats through two local proxies with metadata exchange, in front of httpbin", () => {
  const skipped = httpbinUnavailable();
  let httpbin: Httpbin | undefined;
  let server: StartedProxy | undefined;
  let client: StartedProxy | undefined;
  const replies: Array<{ path: string; reply: Reply }> = [];
  const expectedRequestBytes = new Map<string, number>();

  before(async () => {
    if (skipped) return;
    await modulePath("metadata-exchange");
    await modulePath("stats");
    httpbin = await startHttpbin();
    server = await startProxy({ configFile: join(here, "envoy.yaml"), upstreams: { httpbin } });
    const port = Number(new URL(server.url()).port);
    client = await startProxy({ configFile: join(here, "envoy-client.yaml"), upstreams: { reviews: { address: "127.0.0.1", port } } });

    // Two echoes give the exact request header maps; the /status requests carry the same headers.
    const getEcho = await send(`${client.url()}/anything?show_env=1`);
    const postEcho = await send(`${client.url()}/anything?show_env=1`, "POST", "hello stats");
    replies.push({ path: "/anything?show_env=1", reply: getEcho }, { path: "/anything?show_env=1", reply: postEcho });
    const get = JSON.parse(getEcho.body.toString()) as Parameters<typeof requestTotalSize>[0];
    const post = JSON.parse(postEcho.body.toString()) as Parameters<typeof requestTotalSize>[0];
    const add = (code: string, n: number): void => void expectedRequestBytes.set(code, (expectedRequestBytes.get(code) ?? 0) + n);
    add("200", requestTotalSize(get, ""));
    add("200", requestTotalSize(post, "hello stats"));
    for (const code of [200, 200, 404, 503, 200, 404, 200, 503, 404]) {
      const path = `/status/${code}`;
      const reply = await send(`${client.url()}${path}`);
      assert.equal(reply.status, code);
      replies.push({ path, reply });
      add(String(code), requestTotalSize({ ...get, url: `http://x${path}` }, ""));
    }
  });

  after(async () => {
    agent.destroy();
    await client?.stop();
    await server?.stop();
    await httpbin?.stop();
  });

  const ready = (t: TestContext): boolean => {
    if (skipped) t.skip(skipped);
    return !skipped;
  };

  test("the server reports istio_requests_total{reporter=destination} with the client as source, exact per code", async (t) => {
    if (!ready(t)) return;
    const series = (await prometheus(server!)).filter((s) => s.metric === "istio_requests_total");
    assert.deepEqual(Object.fromEntries(series.map((s) => [s.labels["response_code"], s.value])), { "200": 6, "404": 3, "503": 2 });
    for (const s of series) {
      assert.deepEqual(Object.keys(s.labels), STANDARD_LABELS, "the 25 labels, in Istio's order");
      assert.deepEqual({ ...s.labels, response_code: "" }, {
        reporter: "destination",
        source_workload: "productpage-v1",
        source_workload_namespace: "bookinfo",
        source_principal: "unknown",
        source_app: "productpage",
        source_version: "v1",
        source_canonical_service: "productpage",
        source_canonical_revision: "v1",
        source_cluster: "Kubernetes",
        destination_workload: "reviews-v2",
        destination_workload_namespace: "bookinfo",
        destination_principal: "unknown",
        destination_app: "reviews",
        destination_version: "v2",
        destination_service: "reviews",
        destination_service_name: "reviews",
        destination_service_namespace: "bookinfo",
        destination_canonical_service: "reviews",
        destination_canonical_revision: "v2",
        destination_cluster: "Kubernetes",
        request_protocol: "http",
        response_flags: "-",
        connection_security_policy: "none",
        response_code: "",
        grpc_response_status: "",
      });
    }
  });

  test("the client reports istio_requests_total{reporter=source} with the server as destination and the cluster's service", async (t) => {
    if (!ready(t)) return;
    const series = (await prometheus(client!)).filter((s) => s.metric === "istio_requests_total");
    assert.deepEqual(Object.fromEntries(series.map((s) => [s.labels["response_code"], s.value])), { "200": 6, "404": 3, "503": 2 });
    for (const s of series) {
      assert.equal(s.labels["reporter"], "source");
      assert.equal(s.labels["source_workload"], "productpage-v1");
      assert.equal(s.labels["destination_workload"], "reviews-v2", "learnt from the server's response headers");
      assert.equal(s.labels["destination_version"], "v2");
      assert.equal(s.labels["destination_service"], "reviews.bookinfo.svc.cluster.local");
      assert.equal(s.labels["destination_service_name"], "reviews");
      assert.equal(s.labels["connection_security_policy"], "unknown");
    }
  });

  test("the histograms use Envoy's default buckets and count every request", async (t) => {
    if (!ready(t)) return;
    const samples = await prometheus(server!);
    for (const metric of ["istio_request_duration_milliseconds", "istio_request_bytes", "istio_response_bytes"]) {
      const buckets = samples.filter((s) => s.metric === `${metric}_bucket` && s.labels["response_code"] === "404");
      assert.deepEqual(buckets.map((b) => b.labels["le"]), envoyDefaultBuckets, metric);
      assert.equal(buckets.at(-1)!.value, 3, `${metric}: +Inf holds every 404`);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, "cumulative");
      const count = samples.find((s) => s.metric === `${metric}_count` && s.labels["response_code"] === "404");
      assert.equal(count!.value, 3);
      assert.equal(Object.keys(count!.labels).length, 25);
    }
  });

  test("istio_request_bytes at the server is what it received: headers + body", async (t) => {
    if (!ready(t)) return;
    const sums = (await prometheus(server!)).filter((s) => s.metric === "istio_request_bytes_sum");
    assert.deepEqual(Object.fromEntries(sums.map((s) => [s.labels["response_code"], s.value])), Object.fromEntries(expectedRequestBytes));
  });

  test("istio_response_bytes at the client is what it sent back: headers + body", async (t) => {
    if (!ready(t)) return;
    const expected: Record<string, number> = {};
    for (const { reply } of replies) expected[String(reply.status)] = (expected[String(reply.status)] ?? 0) + responseTotalSize(reply);
    const sums = (await prometheus(client!)).filter((s) => s.metric === "istio_response_bytes_sum");
    assert.deepEqual(Object.fromEntries(sums.map((s) => [s.labels["response_code"], s.value])), expected);
  });

  test("the series are in /stats under their encoded names, and Istio's internal metrics are tagged", async (t) => {
    if (!ready(t)) return;
    const stats = await server!.stats();
    const names = [...stats.keys()].filter((n) => n.endsWith("istio_requests_total"));
    assert.equal(names.length, 3);
    assert.ok(names.every((n) => n.startsWith("wasmcustom.reporter=.=destination;.;source_workload=.=productpage-v1;.;")), names.join("\n"));
    const samples = await prometheus(server!);
    assert.deepEqual(samples.find((s) => s.metric === "istio_build")?.labels, { component: "proxy", tag: "1.18.2" });
    assert.equal(samples.find((s) => s.metric === "metric_cache_count" && s.labels["cache"] === "miss")?.value, 3);
    assert.equal(samples.find((s) => s.metric === "metric_cache_count" && s.labels["cache"] === "miss")?.labels["wasm_filter"], "stats_filter");
  });
});

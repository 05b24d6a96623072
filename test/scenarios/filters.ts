// Each filter's core behaviour through the config that ships it (envoy/<filter>.yaml), and the
// parts envoy/envoy.yaml shares with it (the rate-limit configuration, the retry of idempotent
// reads). What is expected comes from the filters' READMEs and filters.md; what the config says
// (node metadata) is read from the config file.
import assert from "node:assert/strict";
import { echo, eventually, prometheus, send, stat, total } from "./observe.js";
import { decodePeerMetadata, PEER_ID, PEER_METADATA, peerHeaders, sleepPeer } from "./peer.js";
import { shippedNode } from "./shipped.js";
import type { Scenario } from "./target.js";

export const addHeaderBothWays: Scenario = {
  name: "add-header: the request reaches httpbin with x-wasm-filter, the response carries x-powered-by",
  config: "add-header.yaml",
  async run(t) {
    const { reply, header } = await echo(t);
    assert.equal(header("x-wasm-filter"), "add-header");
    assert.equal(reply.headers.get("x-powered-by"), "proxy-wasm-as");
    const status = await send(`${t.baseUrl}/status/418`);
    assert.equal(status.status, 418);
    assert.equal(status.headers.get("x-powered-by"), "proxy-wasm-as", "on every response, whatever its status");
    assert.match((await send(`${t.adminUrl}/config_dump`)).text, /"root_id": "add_header"/);
  },
};

/** The four node labels the exchange sends (filters.md §1.1), from the config's node. */
function exchangedLabels(labels: Record<string, string>): Record<string, string> {
  const keep = ["app", "version", "service.istio.io/canonical-name", "service.istio.io/canonical-revision"];
  return Object.fromEntries(Object.entries(labels).filter(([k]) => keep.includes(k)));
}

export const metadataExchangeInbound: Scenario = {
  name: "metadata-exchange (INBOUND): peer headers stop before httpbin; mesh clients get this proxy's, others nothing",
  config: "metadata-exchange.yaml",
  async run(t) {
    const node = shippedNode("metadata-exchange.yaml");
    const mesh = await echo(t, peerHeaders(sleepPeer.id, sleepPeer.metadata));
    assert.equal(mesh.header(PEER_METADATA), undefined, "the app never sees the exchange headers");
    assert.equal(mesh.header(PEER_ID), undefined);
    assert.equal(mesh.reply.headers.get(PEER_ID), node.id);
    const sent = decodePeerMetadata(mesh.reply.headers.get(PEER_METADATA) ?? "");
    // The config's node holds only keys the exchange sends (its strings and LABELS).
    assert.deepEqual(sent, { ...node.metadata, LABELS: exchangedLabels(node.metadata.LABELS as Record<string, string>) });
    const outside = await echo(t);
    assert.equal(outside.reply.headers.get(PEER_METADATA), null, "a client outside the mesh learns nothing");
    assert.equal(outside.reply.headers.get(PEER_ID), null);
  },
};

export const statsInbound: Scenario = {
  name: "stats (INBOUND): istio_requests_total with reporter=destination, the peer as source, this node as destination",
  config: "stats.yaml",
  async run(t) {
    const common = { reporter: "destination", destination_workload: "httpbin", destination_workload_namespace: "default", destination_app: "httpbin", destination_version: "v1", destination_cluster: "Kubernetes", request_protocol: "http", response_code: "200" };
    const fromSleep = { ...common, source_workload: "sleep", source_workload_namespace: "default", source_app: "sleep", source_canonical_service: "sleep", source_cluster: "Kubernetes" };
    const fromOutside = { ...common, source_workload: "unknown", source_cluster: "unknown" };
    const before = await prometheus(t);
    await echo(t, peerHeaders(sleepPeer.id, sleepPeer.metadata));
    await echo(t, peerHeaders(sleepPeer.id, sleepPeer.metadata));
    await echo(t);
    await eventually(async () => {
      const after = await prometheus(t);
      assert.equal(total(after, "istio_requests_total", fromSleep) - total(before, "istio_requests_total", fromSleep), 2);
      assert.equal(total(after, "istio_requests_total", fromOutside) - total(before, "istio_requests_total", fromOutside), 1);
    });
    const samples = await prometheus(t);
    assert.equal(total(samples, "istio_build", { component: "proxy", tag: "1.26.2" }), 1, "istio_build from ISTIO_VERSION");
    // Envoy merges histograms into the admin's view on its stats flush (5 s by default).
    await eventually(async () => {
      const buckets = (await prometheus(t)).filter((s) => s.metric === "istio_request_duration_milliseconds_bucket" && s.labels.source_workload === "sleep");
      assert.ok(buckets.some((s) => s.labels.le === "0.5"), "histograms with Envoy's default buckets");
    }, 7000);
  },
};

/** The rate-limit configuration of envoy/rate-limit.yaml and envoy/envoy.yaml: 5 per minute per client on /anything/limited. */
export function perClientLimit(config: string): Scenario {
  return {
    name: "rate-limit: the sixth request to /anything/limited within a minute gets Envoy's local_rate_limited 429",
    config,
    async run(t) {
      // Custom Wasm metrics: Prometheus output strips Envoy's wasmcustom namespace (filters.md §0).
      const rateLimited = async () => total(await prometheus(t), "http_local_rate_limiter_http_local_rate_limit_rate_limited");
      const limitedBefore = await rateLimited();
      for (let remaining = 4; remaining >= 0; remaining--) {
        const ok = await send(`${t.baseUrl}/anything/limited`);
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.headers.get("x-ratelimit-limit"), "5");
        assert.equal(ok.headers.get("x-ratelimit-remaining"), String(remaining));
      }
      const limited = await send(`${t.baseUrl}/anything/limited`);
      assert.equal(limited.status, 429);
      assert.equal(limited.text, "local_rate_limited");
      assert.equal(limited.headers.get("x-envoy-ratelimited"), "true");
      assert.match(limited.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
      assert.equal(limited.headers.get("x-ratelimit-remaining"), "0");
      await eventually(async () => assert.equal((await rateLimited()) - limitedBefore, 1));
      const other = await send(`${t.baseUrl}/get`);
      assert.equal(other.status, 200, "other paths use the proxy-wide bucket");
      assert.equal(other.headers.get("x-ratelimit-limit"), "1000");
    },
  };
}

async function attempts(t: { baseUrl: string }, init?: RequestInit): Promise<string | null> {
  const reply = await send(`${t.baseUrl}/status/503`, init);
  assert.equal(reply.status, 503);
  return reply.headers.get("x-envoy-attempt-count");
}

/** envoy/retry-headers.yaml and envoy/envoy.yaml retry GETs to /status/* twice on 5xx, not POSTs. */
export function idempotentRetries(config: string): Scenario {
  return {
    name: "retry-headers: a GET answered 503 is retried twice, a POST is not, and a client cannot ask for more",
    config,
    async run(t) {
      const retries = () => stat(t, "cluster.httpbin_service.upstream_rq_retry");
      const before = await retries();
      assert.equal(await attempts(t), "3", "1 attempt + 2 retries, reported in x-envoy-attempt-count");
      assert.equal((await retries()) - before, 2);
      assert.equal(await attempts(t, { method: "POST" }), "1", "non-idempotent: 5xx is not a safe condition");
      assert.equal((await retries()) - before, 2);
      // Without the trusted header the client's own control headers are removed (by Envoy for an
      // external client, by the filter for an untrusted internal one).
      assert.equal(await attempts(t, { headers: { "x-envoy-max-retries": "0", "x-envoy-retry-on": "retriable-4xx" } }), "3");
    },
  };
}

export const trustedRetryHeaders: Scenario = {
  name: "retry-headers: a trusted client's own x-envoy-max-retries wins, an untrusted one's is stripped and counted",
  config: "retry-headers.yaml",
  async run(t) {
    const trusted = { "x-internal-caller": "c7f1e0b2" };
    assert.equal(await attempts(t, { headers: { ...trusted, "x-envoy-max-retries": "0" } }), "1");
    assert.equal(await attempts(t, { headers: { ...trusted, "x-envoy-max-retries": "9" } }), "4", "capped at caps.max_retries = 3");
    const stripped = async () => total(await prometheus(t), "retry_headers_stripped_total");
    const before = await stripped();
    assert.equal(await attempts(t, { headers: { "x-envoy-max-retries": "0" } }), "3");
    await eventually(async () => assert.equal((await stripped()) - before, 1));
    const { header } = await echo(t, trusted);
    assert.equal(header("x-internal-caller"), undefined, "the secret never reaches the upstream");
  },
};

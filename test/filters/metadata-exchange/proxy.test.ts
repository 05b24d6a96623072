// Acceptance through two chained local proxies, each with its own node: client sidecar
// (envoy-client.yaml, OUTBOUND) → server sidecar (envoy.yaml, INBOUND) → a real httpbin. A probe
// module put first in each chain reports the peer filter state as response headers, and the stats
// filter (after the exchange, when it builds) labels each side's requests with the peer's workload.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { httpbinUnavailable, startHttpbin, type Httpbin } from "../../support/httpbin.js";
import { modulePath, projectRoot } from "../../support/modules.js";
import { startProxy, type StartedProxy } from "../../support/proxy.js";

const here = join(projectRoot, "test", "filters", "metadata-exchange");
const clientId = "sidecar~10.0.0.11~productpage-v1-6b746f74dc-9stvs.bookinfo~bookinfo.svc.cluster.local";
const serverId = "sidecar~10.0.0.12~reviews-v2-5b64f47978-2xjhx.bookinfo~bookinfo.svc.cluster.local";

type Json = Record<string, unknown>;

const wasmFilter = (name: string, file: string, configuration = ""): Json => ({
  name,
  typed_config: {
    "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
    config: {
      name,
      root_id: name,
      vm_config: { vm_id: name, runtime: "envoy.wasm.runtime.v8", code: { local: { filename: file } } },
      configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: configuration },
    },
  },
});

/**
 * Puts the probe first in every HTTP filter chain (reporting under `prefix`: its encoder runs
 * last, after the exchange handled the response) and the stats filter, if given, after the
 * exchange filter (its on_log reads the peers the exchange stored).
 */
function withProbes(probe: string, prefix: string, stats: string | undefined) {
  return (bootstrap: Json): void => {
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(visit);
      else if (node && typeof node === "object") {
        const obj = node as Json;
        if (Array.isArray(obj.http_filters)) {
          if (stats) obj.http_filters.splice(1, 0, wasmFilter("stats", stats));
          obj.http_filters.unshift(wasmFilter("mx_peer_probe", probe, prefix));
        }
        Object.values(obj).forEach(visit);
      }
    };
    visit(bootstrap);
  };
}

/** The value of Istio tag `tag` in a stat name with tags encoded as `tag=.=value;.;` (filters.md §2.4). */
const tagValue = (name: string, tag: string): string | undefined => new RegExp(`(?:^|[.;])${tag}=\\.=(.*?);\\.;`).exec(name)?.[1];

const peerHeaders = (headers: Headers): string[] => [...headers.keys()].filter((k) => k.startsWith("x-envoy-peer-metadata"));

describe("metadata exchange between two local proxies in front of httpbin", () => {
  const skipped = httpbinUnavailable();
  let httpbin: Httpbin | undefined;
  let server: StartedProxy | undefined;
  let client: StartedProxy | undefined;
  /** Why the stats filter is not in the chains (it is another filter, still allowed to fail to build). */
  let statsMissing: string | undefined;

  before(async () => {
    if (skipped) return;
    await modulePath("metadata-exchange");
    const probe = await modulePath("mx-peer-probe");
    let stats: string | undefined;
    try {
      stats = await modulePath("stats");
    } catch (e) {
      statsMissing = `the stats filter does not build: ${(e as Error).message}`;
    }
    httpbin = await startHttpbin();
    const start = async (withStats: string | undefined): Promise<void> => {
      server = await startProxy({ configFile: join(here, "envoy.yaml"), upstreams: { httpbin: httpbin! }, edit: withProbes(probe, "x-server-", withStats) });
      const port = Number(new URL(server.url()).port);
      client = await startProxy({
        configFile: join(here, "envoy-client.yaml"),
        upstreams: { reviews: { address: "127.0.0.1", port } },
        edit: withProbes(probe, "x-client-", withStats),
      });
    };
    try {
      await start(stats);
    } catch (e) {
      if (!stats) throw e;
      // The stats filter builds but does not load: test the exchange without it.
      await server?.stop();
      statsMissing = `the stats filter does not load: ${(e as Error).message}`;
      await start(undefined);
    }
  });
  after(async () => {
    await client?.stop();
    await server?.stop();
    await httpbin?.stop();
  });

  const requireProxies = (t: TestContext): boolean => {
    if (skipped) t.skip(skipped);
    return !skipped;
  };

  test("httpbin never sees the exchange headers; each side holds the other's workload", async (t) => {
    if (!requireProxies(t)) return;
    // The app sets a forged header: the outbound sidecar replaces it with its own.
    const res = await fetch(`${client!.url()}/headers`, { headers: { "x-envoy-peer-metadata-id": "forged" } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { headers: Record<string, string> };
    assert.deepEqual(Object.keys(body.headers).filter((k) => k.toLowerCase().startsWith("x-envoy-peer")), [], JSON.stringify(body.headers));
    assert.deepEqual(peerHeaders(res.headers), [], "the client app gets none back either");
    assert.equal(res.headers.get("x-server-downstream-workload"), "productpage-v1");
    assert.equal(res.headers.get("x-server-downstream-id"), clientId);
    assert.equal(res.headers.get("x-client-upstream-workload"), "reviews-v2");
    assert.equal(res.headers.get("x-client-upstream-id"), serverId);
    assert.equal(res.headers.get("x-client-downstream-workload"), null, "the client app is not a mesh peer");
  });

  test("a client outside the mesh gets no metadata back", async (t) => {
    if (!requireProxies(t)) return;
    const res = await fetch(`${server!.url()}/headers`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    assert.deepEqual(peerHeaders(res.headers), []);
    assert.equal(res.headers.get("x-server-downstream-workload"), null);
  });

  test("the stats filter labels each side's requests with the other side's workload", async (t) => {
    if (!requireProxies(t)) return;
    if (statsMissing) return t.skip(statsMissing);
    await (await fetch(`${client!.url()}/status/201`)).arrayBuffer();
    const requests = async (p: StartedProxy): Promise<string[]> =>
      [...(await p.stats()).keys()].filter((k) => k.endsWith("istio_requests_total") && tagValue(k, "response_code") === "201");
    const [outbound] = await requests(client!);
    const [inbound] = await requests(server!);
    assert.ok(outbound && inbound, "both sides counted the request");
    assert.equal(tagValue(outbound, "reporter"), "source");
    assert.equal(tagValue(outbound, "source_workload"), "productpage-v1");
    assert.equal(tagValue(outbound, "destination_workload"), "reviews-v2", "from upstream_peer");
    assert.equal(tagValue(outbound, "destination_canonical_revision"), "v2");
    assert.equal(tagValue(inbound, "reporter"), "destination");
    assert.equal(tagValue(inbound, "source_workload"), "productpage-v1", "from downstream_peer");
    assert.equal(tagValue(inbound, "source_workload_namespace"), "bookinfo");
    assert.equal(tagValue(inbound, "destination_workload"), "reviews-v2");
  });

  test("the counters are in /stats and /stats/prometheus", async (t) => {
    if (!requireProxies(t)) return;
    for (let i = 0; i < 2; i++) await (await fetch(`${client!.url()}/get`)).arrayBuffer();
    // /stats shows custom Wasm metrics under their namespace; only Prometheus output strips it
    // (Envoy PrometheusStatsFormatter::metricName is the only user of stripRegisteredPrefix).
    const stats = await client!.stats();
    assert.ok((stats.get("wasmcustom.metadata_exchange.peer_cache_hits") ?? 0) >= 1, "the server's metadata came from the cache");
    assert.equal(stats.get("wasmcustom.metadata_exchange.peer_cache_misses"), 1, "decoded once per worker");
    assert.equal(stats.get("wasmcustom.metadata_exchange.peer_metadata_malformed"), 0);
    const prometheus = await (await fetch(`${server!.adminUrl}/stats/prometheus`)).text();
    for (const name of ["peer_metadata_malformed", "peer_header_oversize", "peer_cache_hits", "peer_cache_misses", "untrusted_peer_headers"]) {
      assert.match(prometheus, new RegExp(`^# TYPE metadata_exchange_${name} counter$`, "m"), name);
    }
    assert.match(prometheus, /^metadata_exchange_peer_cache_misses\{\} 1$|^metadata_exchange_peer_cache_misses 1$/m);
  });
});

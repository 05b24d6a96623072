// envoy/envoy.yaml: the four filters chained in an edge proxy (metadata-exchange -> rate-limit ->
// retry-headers -> stats -> router, OUTBOUND listener). One request through the chain shows each
// filter's effect; the retry and rate-limit scenarios are shared with the per-filter configs
// (filters.ts), and a rate-limited request shows stats counting local replies.
import assert from "node:assert/strict";
import { idempotentRetries, perClientLimit } from "./filters.js";
import { echo, eventually, prometheus, send, total, type Sample } from "./observe.js";
import { decodePeerMetadata, PEER_ID, PEER_METADATA, peerHeaders } from "./peer.js";
import { shippedNode } from "./shipped.js";
import type { Scenario } from "./target.js";

const config = "envoy.yaml";

/** Client side (reporter=source): this node is the source, httpbin the destination (filters.md §2.2). */
const edgeToHttpbin = {
  reporter: "source",
  source_workload: "edge-proxy",
  source_workload_namespace: "default",
  source_app: "edge-proxy",
  source_version: "v1",
  source_canonical_service: "edge-proxy",
  source_cluster: "Kubernetes",
  // the endpoint's istio.workload metadata, httpbin answering no exchange (filters.md §1.3)
  destination_workload: "httpbin",
  destination_workload_namespace: "default",
  destination_canonical_service: "httpbin",
  destination_canonical_revision: "v1",
  destination_cluster: "Kubernetes",
  // the cluster's istio.services metadata
  destination_service: "httpbin.default.svc.cluster.local",
  destination_service_name: "httpbin",
  destination_service_namespace: "default",
  request_protocol: "http",
  connection_security_policy: "unknown",
};

/** An impostor's peer headers: at the edge they must neither reach httpbin nor label any metric. */
const forged = peerHeaders("sidecar~10.6.6.6~impostor-0.default~default.svc.cluster.local", {
  NAME: "impostor-0",
  NAMESPACE: "default",
  WORKLOAD_NAME: "impostor",
  LABELS: { app: "impostor" },
});

const requestsFrom = (samples: Sample[], labels: Record<string, string>) => total(samples, "istio_requests_total", labels);

export const wholeChain: Scenario = {
  name: "envoy.yaml: one request through the chain shows every filter's effect",
  config,
  async run(t) {
    const node = shippedNode(config);
    const before = await prometheus(t);
    const { reply, header } = await echo(t, { ...forged, "x-envoy-max-retries": "9" });

    // metadata-exchange (OUTBOUND, edge): the client's peer headers are dropped unread; httpbin
    // gets this proxy's identity instead, and the client gets none back.
    assert.equal(header(PEER_ID), node.id);
    const announced = decodePeerMetadata(header(PEER_METADATA) ?? "");
    assert.equal(announced.WORKLOAD_NAME, "edge-proxy");
    assert.equal(announced.NAMESPACE, "default");
    assert.equal(reply.headers.get(PEER_METADATA), null);
    assert.equal(reply.headers.get(PEER_ID), null);

    // rate-limit: the proxy-wide bucket answers for every request.
    assert.equal(reply.headers.get("x-ratelimit-limit"), "1000");
    assert.match(reply.headers.get("x-ratelimit-remaining") ?? "", /^\d+$/);

    // retry-headers: the client's control header never reaches the router or httpbin; the attempt
    // count goes to httpbin (include_request_attempt_count) and back to the client.
    assert.equal(header("x-envoy-max-retries"), undefined);
    assert.equal(header("x-envoy-attempt-count"), "1");
    assert.equal(reply.headers.get("x-envoy-attempt-count"), "1");

    // stats: counted once with Istio's labels, on the client side of an edge proxy.
    await eventually(async () => {
      const after = await prometheus(t);
      const labels = { ...edgeToHttpbin, response_code: "200", response_flags: "-" };
      assert.equal(requestsFrom(after, labels) - requestsFrom(before, labels), 1);
      assert.ok(!after.some((s) => Object.values(s.labels).includes("impostor")), "a forged identity labels nothing");
    });
    assert.equal(total(await prometheus(t), "istio_build", { component: "proxy", tag: "1.26.2" }), 1);
  },
};

export const localRepliesCounted: Scenario = {
  name: "envoy.yaml: a rate-limited request is still counted by stats, as response_code 429",
  config,
  async run(t) {
    const limited429 = { reporter: "source", source_workload: "edge-proxy", response_code: "429" };
    const before = requestsFrom(await prometheus(t), limited429);
    // Empties the client's bucket on /anything/limited (5 per minute), whatever ran before.
    let status = 0;
    for (let i = 0; i <= 5 && status !== 429; i++) status = (await send(`${t.baseUrl}/anything/limited`)).status;
    assert.equal(status, 429);
    // Envoy logs every filter of the chain, so stats (after rate-limit) sees the local reply; no
    // upstream host was picked, so the destination workload is unknown.
    await eventually(async () => {
      const after = await prometheus(t);
      assert.equal(requestsFrom(after, limited429) - before, 1);
      assert.equal(requestsFrom(after, { ...limited429, destination_workload: "unknown" }) - before, 1);
    });
  },
};

export const suiteScenarios: Scenario[] = [wholeChain, idempotentRetries(config), perClientLimit(config), localRepliesCounted];

// Istio's 25 standard labels and their rules (filters.md §2.2), one test per rule, through the
// emulator with the real module: the labels are read back from the metric names as Envoy's
// stats_tags regexes would cut them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  INBOUND, OUTBOUND, STANDARD_LABELS, counters, defaultRequest, exchange, istioNode, labelsOf, loadStats, peerState,
  workloadMetadata,
} from "./stats-kit.js";

const local = istioNode("reviews-v2", "bookinfo", { version: "v2", "service.istio.io/canonical-revision": "v2" });
const client = workloadMetadata("productpage-v1", "bookinfo");
const server = workloadMetadata("ratings-v1", "backend");
const inbound = { rootId: "stats_inbound", node: local };
const outbound = { rootId: "stats_outbound", node: local };
const fromClient = { filterState: peerState({ downstream_peer: client }) };
const toServer = { filterState: peerState({ upstream_peer: server }) };

describe("label order and encoding", () => {
  it("carries the 25 standard labels in Istio's order, then the metric name", async () => {
    const { emu } = await loadStats(inbound);
    exchange(emu, { streamInfo: fromClient });
    const [series] = counters(emu, "istio_requests_total");
    assert.deepEqual(series!.order, STANDARD_LABELS);
    assert.match(series!.name, /^reporter=\.=destination;\.;source_workload=\.=productpage-v1;\.;.*;\.;grpc_response_status=\.=;\.;istio_requests_total$/);
  });
});

describe("reporter", () => {
  it("is destination under root id stats_inbound", async () => {
    assert.equal((await labelsOf(inbound))["reporter"], "destination");
  });

  it("is source under root id stats_outbound", async () => {
    assert.equal((await labelsOf(outbound))["reporter"], "source");
  });

  it("follows xds.listener_direction per request under any other root id (one ECDS config, both directions)", async () => {
    const { emu } = await loadStats({ node: local, rootId: "istio.stats" });
    exchange(emu, { streamInfo: { listenerDirection: INBOUND } });
    exchange(emu, { streamInfo: { listenerDirection: OUTBOUND } });
    exchange(emu, { streamInfo: { listenerDirection: 0 } });
    const byReporter = new Map(counters(emu, "istio_requests_total").map((s) => [s.labels["reporter"], s.value]));
    assert.deepEqual(Object.fromEntries(byReporter), { destination: 1n, source: 2n }, "UNSPECIFIED reports as the client, like Istio");
  });

  it("takes the configured reporter over the root id", async () => {
    assert.equal((await labelsOf({ ...inbound, configuration: { reporter: "CLIENT_SIDECAR" } }))["reporter"], "source");
    assert.equal((await labelsOf({ ...outbound, configuration: { reporter: "SERVER_SIDECAR" } }))["reporter"], "destination");
    assert.equal((await labelsOf({ ...outbound, configuration: { reporter: "SERVER_GATEWAY" } }))["reporter"], "waypoint");
    assert.equal((await labelsOf({ ...outbound, configuration: { reporter: 1 } }))["reporter"], "waypoint");
  });
});

describe("source_* and destination_* workloads", () => {
  it("inbound: the downstream peer is the source, the local node the destination", async () => {
    const l = await labelsOf(inbound, { streamInfo: fromClient });
    assert.equal(l["source_workload"], "productpage-v1");
    assert.equal(l["source_workload_namespace"], "bookinfo");
    assert.equal(l["source_app"], "productpage");
    assert.equal(l["source_version"], "v1");
    assert.equal(l["source_canonical_service"], "productpage");
    assert.equal(l["source_canonical_revision"], "v1");
    assert.equal(l["source_cluster"], "Kubernetes");
    assert.equal(l["destination_workload"], "reviews-v2");
    assert.equal(l["destination_workload_namespace"], "bookinfo");
    assert.equal(l["destination_app"], "reviews");
    assert.equal(l["destination_version"], "v2");
    assert.equal(l["destination_canonical_service"], "reviews");
    assert.equal(l["destination_canonical_revision"], "v2");
    assert.equal(l["destination_cluster"], "Kubernetes");
  });

  it("outbound: the local node is the source, the upstream peer the destination", async () => {
    const l = await labelsOf(outbound, { streamInfo: toServer });
    assert.equal(l["source_workload"], "reviews-v2");
    assert.equal(l["source_workload_namespace"], "bookinfo");
    assert.equal(l["source_version"], "v2");
    assert.equal(l["destination_workload"], "ratings-v1");
    assert.equal(l["destination_workload_namespace"], "backend");
    assert.equal(l["destination_app"], "ratings");
    assert.equal(l["destination_cluster"], "Kubernetes");
  });

  it("inbound ignores an upstream peer and outbound a downstream peer", async () => {
    const both = { filterState: peerState({ downstream_peer: client, upstream_peer: server }) };
    assert.equal((await labelsOf(inbound, { streamInfo: both }))["source_workload"], "productpage-v1");
    assert.equal((await labelsOf(outbound, { streamInfo: both }))["destination_workload"], "ratings-v1");
  });

  it("without a peer every peer label is unknown and the canonical revision latest", async () => {
    const l = await labelsOf(inbound);
    for (const k of ["source_workload", "source_workload_namespace", "source_app", "source_version", "source_canonical_service", "source_cluster", "source_principal"]) {
      assert.equal(l[k], "unknown", k);
    }
    assert.equal(l["source_canonical_revision"], "latest");
  });

  it("canonical service falls back to the workload name, canonical revision to latest", async () => {
    const bare = workloadMetadata("details-v1", "bookinfo");
    delete (bare["LABELS"] as Record<string, string>)["service.istio.io/canonical-name"];
    delete (bare["LABELS"] as Record<string, string>)["service.istio.io/canonical-revision"];
    const l = await labelsOf(inbound, { streamInfo: { filterState: peerState({ downstream_peer: bare }) } });
    assert.equal(l["source_canonical_service"], "details-v1");
    assert.equal(l["source_canonical_revision"], "latest");
  });

  it("app and version fall back to app.kubernetes.io/name and /version", async () => {
    const k8s = { NAMESPACE: "bookinfo", WORKLOAD_NAME: "details-v1", LABELS: { "app.kubernetes.io/name": "details", "app.kubernetes.io/version": "1.2" } };
    const l = await labelsOf(inbound, { streamInfo: { filterState: peerState({ downstream_peer: k8s }) } });
    assert.equal(l["source_app"], "details");
    assert.equal(l["source_version"], "1.2");
    assert.equal(l["source_cluster"], "unknown");
  });

  it("empty local metadata values become unknown", async () => {
    const l = await labelsOf({ rootId: "stats_inbound", node: { id: "n", cluster: "c", metadata: { WORKLOAD_NAME: "", NAMESPACE: "" } } });
    for (const k of ["destination_workload", "destination_workload_namespace", "destination_app", "destination_version", "destination_canonical_service", "destination_cluster"]) {
      assert.equal(l[k], "unknown", k);
    }
  });

  it("a malformed peer Struct counts as no peer", async () => {
    const l = await labelsOf(inbound, { streamInfo: { filterState: peerState({ downstream_peer: Buffer.from([0x0a, 0xff, 0x01]) }) } });
    assert.equal(l["source_workload"], "unknown");
  });
});

describe("upstream peer from endpoint metadata (no exchange happened)", () => {
  const endpoint = (workload: string) => ({
    upstream: { address: { ip: "10.1.2.3", port: 9080 }, requestAttemptCount: 1, hostMetadata: { filter_metadata: { istio: { workload } } } },
  });

  it("reads workload;namespace;canonical service;revision;cluster from filter_metadata.istio.workload", async () => {
    const l = await labelsOf(outbound, { streamInfo: endpoint("ratings-v1;backend;ratings;v1;cluster-2") });
    assert.equal(l["destination_workload"], "ratings-v1");
    assert.equal(l["destination_workload_namespace"], "backend");
    assert.equal(l["destination_canonical_service"], "ratings");
    assert.equal(l["destination_canonical_revision"], "v1");
    assert.equal(l["destination_cluster"], "cluster-2");
    assert.equal(l["destination_app"], "unknown", "the endpoint encoding carries no app label");
  });

  it("accepts the encoding without the cluster part", async () => {
    const l = await labelsOf(outbound, { streamInfo: endpoint("ratings-v1;backend;ratings;v1") });
    assert.equal(l["destination_workload"], "ratings-v1");
    assert.equal(l["destination_cluster"], "unknown");
  });

  it("prefers the exchanged upstream peer", async () => {
    const l = await labelsOf(outbound, { streamInfo: { ...endpoint("other-v9;x;other;v9;c"), ...toServer } });
    assert.equal(l["destination_workload"], "ratings-v1");
  });

  it("is not used on the server side", async () => {
    const l = await labelsOf(inbound, { streamInfo: endpoint("ratings-v1;backend;ratings;v1;c") });
    assert.equal(l["destination_workload"], "reviews-v2");
  });
});

describe("principals and connection_security_policy", () => {
  const clientSan = "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-productpage";
  const localSan = "spiffe://cluster.local/ns/bookinfo/sa/bookinfo-reviews";
  const serverSan = "spiffe://cluster.local/ns/backend/sa/bookinfo-ratings";

  it("inbound: source from the downstream peer certificate, destination from the local one; mTLS → mutual_tls", async () => {
    const l = await labelsOf(inbound, {
      streamInfo: fromClient,
      connection: { mtls: true, tlsVersion: "TLSv1.3", uriSanPeerCertificate: clientSan, uriSanLocalCertificate: localSan },
    });
    assert.equal(l["source_principal"], clientSan);
    assert.equal(l["destination_principal"], localSan);
    assert.equal(l["connection_security_policy"], "mutual_tls");
  });

  it("inbound plaintext: principals unknown, policy none", async () => {
    const l = await labelsOf(inbound, { streamInfo: fromClient });
    assert.equal(l["source_principal"], "unknown");
    assert.equal(l["destination_principal"], "unknown");
    assert.equal(l["connection_security_policy"], "none");
  });

  it("outbound: from the upstream connection's certificates; policy unknown", async () => {
    const l = await labelsOf(outbound, {
      streamInfo: {
        ...toServer,
        upstream: { address: { ip: "10.1.2.3", port: 9080 }, requestAttemptCount: 1, tlsVersion: "TLSv1.3", uriSanPeerCertificate: serverSan, uriSanLocalCertificate: localSan },
      },
      connection: { mtls: true, tlsVersion: "TLSv1.3", uriSanPeerCertificate: "spiffe://ignored" },
    });
    assert.equal(l["source_principal"], localSan);
    assert.equal(l["destination_principal"], serverSan);
    assert.equal(l["connection_security_policy"], "unknown");
  });

  it("a peer without NAMESPACE gets the namespace of its SPIFFE identity", async () => {
    const anonymous = { WORKLOAD_NAME: "productpage-v1" };
    const l = await labelsOf(inbound, {
      streamInfo: { filterState: peerState({ downstream_peer: anonymous }) },
      connection: { mtls: true, tlsVersion: "TLSv1.3", uriSanPeerCertificate: clientSan },
    });
    assert.equal(l["source_workload_namespace"], "bookinfo");
  });
});

describe("destination_service, _name and _namespace", () => {
  const istioCluster = (services: unknown[]) => ({ clusterName: "outbound|9080||ratings.backend.svc.cluster.local", clusterMetadata: { filter_metadata: { istio: { services } } } });

  it("come from the cluster's istio services[0] host, name and namespace", async () => {
    const l = await labelsOf(outbound, {
      streamInfo: { ...toServer, ...istioCluster([{ host: "ratings.backend.svc.cluster.local", name: "ratings", namespace: "backend" }]) },
    });
    assert.equal(l["destination_service"], "ratings.backend.svc.cluster.local");
    assert.equal(l["destination_service_name"], "ratings");
    assert.equal(l["destination_service_namespace"], "backend");
  });

  it("a service without a name is named by the first label of its host", async () => {
    const l = await labelsOf(outbound, { streamInfo: istioCluster([{ host: "ratings.backend.svc.cluster.local" }]) });
    assert.equal(l["destination_service_name"], "ratings");
  });

  it("fall back to the Host header, and the namespace to the destination workload's", async () => {
    const l = await labelsOf(outbound, { streamInfo: { ...toServer, clusterName: "plain" } });
    assert.equal(l["destination_service"], defaultRequest[":authority"]);
    assert.equal(l["destination_service_name"], defaultRequest[":authority"]);
    assert.equal(l["destination_service_namespace"], "backend");
  });

  it("with disable_host_header_fallback: unknown on the client side", async () => {
    const l = await labelsOf({ ...outbound, configuration: { disable_host_header_fallback: true } }, { streamInfo: toServer });
    assert.equal(l["destination_service"], "unknown");
    assert.equal(l["destination_service_name"], "unknown");
  });

  it("with disable_host_header_fallback: the local canonical service on the server side", async () => {
    const l = await labelsOf({ ...inbound, configuration: { disable_host_header_fallback: true } });
    assert.equal(l["destination_service"], "reviews");
    assert.equal(l["destination_service_name"], "reviews");
    assert.equal(l["destination_service_namespace"], "bookinfo");
  });

  it("passthrough and black-hole clusters name themselves", async () => {
    for (const cluster of ["PassthroughCluster", "BlackHoleCluster", "InboundPassthroughClusterIpv4"]) {
      const l = await labelsOf(outbound, { streamInfo: { clusterName: cluster, clusterMetadata: { filter_metadata: { istio: { services: [{ host: "x", name: "y" }] } } } } });
      assert.equal(l["destination_service_name"], cluster);
      assert.equal(l["destination_service"], defaultRequest[":authority"], "the cluster's metadata is not used");
    }
  });

  it("istiod's catch-all routes block_all and allow_any name the black-hole and passthrough clusters", async () => {
    assert.equal((await labelsOf(outbound, { streamInfo: { routeName: "block_all", clusterName: "x" } }))["destination_service_name"], "BlackHoleCluster");
    assert.equal((await labelsOf(outbound, { streamInfo: { routeName: "allow_any", clusterName: "x" } }))["destination_service_name"], "PassthroughCluster");
  });
});

describe("request_protocol, response_code, grpc_response_status, response_flags", () => {
  it("request_protocol is grpc for gRPC content types, http otherwise", async () => {
    for (const type of ["application/grpc", "application/grpc+proto", "application/grpc+json"]) {
      const l = await labelsOf(inbound, { request: { ...defaultRequest, "content-type": type }, response: { status: 200, headers: { "content-type": "application/grpc" }, trailers: { "grpc-status": "0" } } });
      assert.equal(l["request_protocol"], "grpc", type);
    }
    for (const type of ["application/grpc-web", "application/json"]) {
      assert.equal((await labelsOf(inbound, { request: { ...defaultRequest, "content-type": type } }))["request_protocol"], "http", type);
    }
  });

  it("response_code is the status sent downstream", async () => {
    assert.equal((await labelsOf(inbound, { response: { status: 503, body: "no" } }))["response_code"], "503");
    assert.equal((await labelsOf(inbound, { response: { status: 404 } }))["response_code"], "404");
  });

  it("response_code is 0 when no response was sent", async () => {
    const { emu } = await loadStats(inbound);
    const s = emu.newStream();
    s.sendRequestHeaders(defaultRequest, { endStream: true });
    s.complete();
    const [series] = counters(emu, "istio_requests_total");
    assert.equal(series!.labels["response_code"], "0");
  });

  it("grpc_response_status is the grpc-status for gRPC and empty for HTTP", async () => {
    const grpc = { ...defaultRequest, "content-type": "application/grpc" };
    const l = await labelsOf(inbound, { request: grpc, response: { status: 200, headers: { "content-type": "application/grpc" }, trailers: { "grpc-status": "14" } } });
    assert.equal(l["grpc_response_status"], "14");
    assert.equal((await labelsOf(inbound))["grpc_response_status"], "");
  });

  it("grpc_response_status of a gRPC request answered with plain HTTP is Envoy's mapping of the status", async () => {
    const grpc = { ...defaultRequest, "content-type": "application/grpc" };
    assert.equal((await labelsOf(inbound, { request: grpc, response: { status: 503 } }))["grpc_response_status"], "14");
  });

  it("response_flags lists Envoy's short codes, - when none", async () => {
    assert.equal((await labelsOf(inbound))["response_flags"], "-");
    assert.equal((await labelsOf(inbound, { streamInfo: { responseFlags: 0x20 } }))["response_flags"], "UF");
    assert.equal((await labelsOf(inbound, { streamInfo: { responseFlags: 0x2 | 0x8000 | 0x100 } }))["response_flags"], "UH,NR,URX");
    assert.equal((await labelsOf(inbound, { streamInfo: { responseFlags: 0x2000000 } }))["response_flags"], "OM");
  });

  it("response_flags keeps bits it does not know as the whole integer", async () => {
    assert.equal((await labelsOf(inbound, { streamInfo: { responseFlags: 0x8000000 | 0x20 } }))["response_flags"], `UF,${0x8000020}`);
  });
});

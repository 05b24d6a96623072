// The header codec against an independent protobuf implementation (protobufjs with Envoy's protos):
// what we send decodes to the Istio projection of the node (nested LABELS and PLATFORM_METADATA)
// and is byte-identical to a deterministic serialization; what an independent encoder sends is
// stored exactly; and the filter state is typed as Envoy's declare_property would type it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  INBOUND, OUTBOUND, PEER_ID, PEER_METADATA, decodeHeader, encodeStruct, expectedPeerStruct, istioNode, mxProxy, request,
  stateBytes,
} from "./mx-kit.js";

const client = istioNode("productpage-v1", "default", "10.0.0.11", { labels: { team: "books" } });

async function sentHeader(node = client, configuration: object | string = ""): Promise<string> {
  const { emu } = await mxProxy(node, configuration);
  const s = emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
  s.sendRequestHeaders(request, { endStream: true });
  const value = s.upstream.headers!.get(PEER_METADATA)!;
  s.complete();
  return value;
}

describe("x-envoy-peer-metadata codec", () => {
  it("sends the Istio projection of the node, readable by protobufjs", async () => {
    const decoded = decodeHeader(await sentHeader());
    assert.deepEqual(decoded, expectedPeerStruct(client));
    assert.deepEqual(decoded.LABELS, {
      app: "productpage",
      version: "v1",
      "service.istio.io/canonical-name": "productpage",
      "service.istio.io/canonical-revision": "v1",
    });
    assert.deepEqual(decoded.PLATFORM_METADATA, { gcp_project: "bookinfo-prod", gcp_location: "us-east1", gcp_gke_cluster_name: "mesh-1" });
    assert.equal(decoded.INSTANCE_IPS, undefined);
  });

  it("includes configured additional labels", async () => {
    const decoded = decodeHeader(await sentHeader(client, { additional_labels: ["team"] }));
    assert.deepEqual(decoded, expectedPeerStruct(client, ["team"]));
  });

  it("is deterministic: byte-identical to a sorted serialization, whatever the node's key order", async () => {
    const value = await sentHeader();
    assert.equal(value, encodeStruct(expectedPeerStruct(client)).toString("base64"), "standard alphabet, padded, keys sorted");
    const reversed = { ...client, metadata: Object.fromEntries(Object.entries(client.metadata).reverse()) };
    assert.equal(await sentHeader(reversed), value);
  });

  it("stores exactly the bytes of a Struct encoded by an independent encoder, padded or not", async () => {
    const { emu } = await mxProxy(istioNode("reviews-v2", "default", "10.0.0.12"), { max_peer_cache_size: 0 });
    // protobufjs writes map entries in insertion order: not the order we would write.
    const peer = {
      WORKLOAD_NAME: "productpage-v1",
      NAMESPACE: "default",
      LABELS: { version: "v1", app: "productpage", "service.istio.io/canonical-name": "productpage" },
      PLATFORM_METADATA: { gcp_location: "us-east1", gcp_project: "bookinfo-prod" },
      NUMBER: 42.5,
      FLAG: true,
      NOTHING: null,
      LIST: ["a", 1, { nested: "x" }],
    };
    // One more key if needed, so that the base64 form has padding to strip.
    const sample = encodeStruct(peer, false).length % 3 === 0 ? { ...peer, PADDED: "yes" } : peer;
    const bytes = encodeStruct(sample, false);
    assert.notDeepEqual(bytes, encodeStruct(sample, true), "the sample is not in sorted order");
    const padded = bytes.toString("base64");
    assert.ok(padded.endsWith("="), "the sample needs padding");
    for (const value of [padded, padded.replace(/=+$/, "")]) {
      const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
      s.sendRequestHeaders({ ...request, [PEER_METADATA]: value, [PEER_ID]: "peer-1" }, { endStream: true });
      assert.deepEqual(stateBytes(s.filterState("wasm.downstream_peer")), bytes, `stored unchanged from ${value.slice(-4)}`);
      s.complete();
    }
    assert.equal(emu.counter("metadata_exchange.peer_metadata_malformed"), 0n);
  });

  it("declares the peer as a Protobuf Struct and the id as a string for CEL and access logs", async () => {
    const { emu } = await mxProxy(istioNode("reviews-v2", "default", "10.0.0.12"));
    const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    const bytes = encodeStruct(expectedPeerStruct(client));
    s.sendRequestHeaders({ ...request, [PEER_METADATA]: bytes.toString("base64"), [PEER_ID]: client.id }, { endStream: true });
    assert.deepEqual(s.filterState("wasm.downstream_peer"), {
      bytes: Uint8Array.from(bytes),
      type: "protobuf",
      readOnly: false,
      schema: "type.googleapis.com/google.protobuf.Struct",
    });
    assert.deepEqual(s.filterState("wasm.downstream_peer_id"), { bytes: Uint8Array.from(Buffer.from(client.id)), type: "string", readOnly: false });
    s.complete();
  });
});

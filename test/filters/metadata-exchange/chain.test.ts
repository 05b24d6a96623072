// Two sidecars in a row, each its own emulator (its own node): the client's OUTBOUND filter talks to
// the server's INBOUND filter through the headers one forwards and the other answers, as in a mesh.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HeaderMap } from "../../../host/http/header-map.js";
import { INBOUND, OUTBOUND, PEER_ID, PEER_METADATA, decodeStruct, istioNode, mxProxy, request, stateBytes } from "./mx-kit.js";

const client = istioNode("productpage-v1", "default", "10.0.0.11");
const server = istioNode("reviews-v2", "bookinfo", "10.0.0.12");

const hasPeerHeaders = (h: HeaderMap): boolean => h.has(PEER_METADATA) || h.has(PEER_ID);
const workload = (state: { bytes: Uint8Array } | undefined): unknown => (state ? decodeStruct(stateBytes(state)!).WORKLOAD_NAME : undefined);

describe("client sidecar → server sidecar → app", () => {
  it("each side learns the other's workload; the apps never see exchange headers", async () => {
    const clientSide = (await mxProxy(client)).emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
    const serverSide = (await mxProxy(server)).emu.newStream({ streamInfo: { listenerDirection: INBOUND } });

    clientSide.sendRequestHeaders(request, { endStream: true });
    serverSide.sendRequestHeaders(clientSide.upstream.headers!, { endStream: true });
    assert.equal(hasPeerHeaders(serverSide.upstream.headers!), false, "the server app's request");

    serverSide.respond({ status: 200, headers: { "content-type": "application/json" }, body: "{}" });
    clientSide.respond({ status: 200, headers: serverSide.downstream.headers!, body: serverSide.downstream.body });
    assert.equal(hasPeerHeaders(clientSide.downstream.headers!), false, "the client app's response");

    assert.equal(workload(serverSide.filterState("wasm.downstream_peer")), "productpage-v1");
    assert.equal(stateBytes(serverSide.filterState("wasm.downstream_peer_id"))?.toString(), client.id);
    assert.equal(workload(clientSide.filterState("wasm.upstream_peer")), "reviews-v2");
    assert.equal(stateBytes(clientSide.filterState("wasm.upstream_peer_id"))?.toString(), server.id);
    assert.equal(decodeStruct(stateBytes(clientSide.filterState("wasm.upstream_peer"))!).NAMESPACE, "bookinfo");
    clientSide.complete();
    serverSide.complete();
  });

  it("a client outside the mesh reaches the server sidecar and gets no metadata back", async () => {
    const serverSide = (await mxProxy(server)).emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    serverSide.sendRequestHeaders(request, { endStream: true });
    serverSide.respond({ status: 200, body: "{}" });
    assert.equal(hasPeerHeaders(serverSide.downstream.headers!), false);
    assert.equal(serverSide.filterState("wasm.downstream_peer"), undefined);
    serverSide.complete();
  });
});

// Istio's per-direction rules (filters.md §1.3; istio/proxy extensions/metadata_exchange/plugin.cc),
// one test per rule, through the emulator with the real module.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  INBOUND, OUTBOUND, PEER_ID, PEER_METADATA, decodeHeader, encodeStruct, expectedPeerStruct, istioNode, mxProxy, request,
  stateBytes,
} from "./mx-kit.js";

const client = istioNode("productpage-v1", "default", "10.0.0.11");
const server = istioNode("reviews-v2", "default", "10.0.0.12");
const serverStruct = encodeStruct(expectedPeerStruct(server));
const serverHeaders = { [PEER_METADATA]: serverStruct.toString("base64"), [PEER_ID]: server.id };
const clientStruct = encodeStruct(expectedPeerStruct(client));
const clientHeaders = { [PEER_METADATA]: clientStruct.toString("base64"), [PEER_ID]: client.id };

describe("metadata exchange on an OUTBOUND listener (client sidecar, gateway)", () => {
  it("puts our metadata and id on the request, replacing what the app sent", async () => {
    const { emu } = await mxProxy(client);
    const s = emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
    s.sendRequestHeaders({ ...request, [PEER_METADATA]: "Zm9yZ2Vk", [PEER_ID]: "forged" }, { endStream: true });
    const up = s.upstream.headers!;
    assert.deepEqual(up.getAll(PEER_METADATA).map(decodeHeader), [expectedPeerStruct(client)]);
    assert.deepEqual(up.getAll(PEER_ID), [client.id]);
    s.complete();
  });

  it("takes the server's headers off the response and stores the upstream peer, sending nothing back", async () => {
    const { emu } = await mxProxy(client);
    const s = emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
    s.sendRequestHeaders(request, { endStream: true });
    s.respond({ status: 200, headers: serverHeaders, body: "ok" });
    const down = s.downstream.headers!;
    assert.equal(down.has(PEER_METADATA), false);
    assert.equal(down.has(PEER_ID), false);
    assert.deepEqual(stateBytes(s.filterState("wasm.upstream_peer")), serverStruct, "the Struct bytes exactly as carried");
    assert.equal(stateBytes(s.filterState("wasm.upstream_peer_id"))?.toString(), server.id);
    assert.equal(s.filterState("wasm.downstream_peer"), undefined);
    s.complete();
  });
});

describe("metadata exchange on an INBOUND listener (server sidecar)", () => {
  it("takes the client's headers off the request so the app never sees them, and stores the downstream peer", async () => {
    const { emu } = await mxProxy(server);
    const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    s.sendRequestHeaders({ ...request, ...clientHeaders }, { endStream: true });
    const up = s.upstream.headers!;
    assert.equal(up.has(PEER_METADATA), false);
    assert.equal(up.has(PEER_ID), false);
    assert.deepEqual(stateBytes(s.filterState("wasm.downstream_peer")), clientStruct);
    assert.equal(stateBytes(s.filterState("wasm.downstream_peer_id"))?.toString(), client.id);
    s.complete();
  });

  it("answers a mesh peer with our metadata and id", async () => {
    const { emu } = await mxProxy(server);
    const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    s.sendRequestHeaders({ ...request, ...clientHeaders }, { endStream: true });
    s.respond({ status: 200, body: "ok" });
    assert.deepEqual(decodeHeader(s.downstream.headers!.get(PEER_METADATA)), expectedPeerStruct(server));
    assert.equal(s.downstream.headers!.get(PEER_ID), server.id);
    s.complete();
  });

  it("sends nothing back to a client outside the mesh", async () => {
    const { emu } = await mxProxy(server);
    const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    s.sendRequestHeaders(request, { endStream: true });
    s.respond({ status: 200, body: "ok" });
    assert.equal(s.downstream.headers!.has(PEER_METADATA), false);
    assert.equal(s.downstream.headers!.has(PEER_ID), false);
    assert.equal(s.filterState("wasm.downstream_peer"), undefined);
    s.complete();
  });

  it("answers with only the headers the request carried", async () => {
    const { emu } = await mxProxy(server);
    const onlyValue = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    onlyValue.sendRequestHeaders({ ...request, [PEER_METADATA]: clientHeaders[PEER_METADATA] }, { endStream: true });
    onlyValue.respond({ status: 200 });
    assert.equal(onlyValue.downstream.headers!.has(PEER_METADATA), true);
    assert.equal(onlyValue.downstream.headers!.has(PEER_ID), false);
    assert.deepEqual(stateBytes(onlyValue.filterState("wasm.downstream_peer")), clientStruct);
    onlyValue.complete();

    const onlyId = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    onlyId.sendRequestHeaders({ ...request, [PEER_ID]: client.id }, { endStream: true });
    onlyId.respond({ status: 200 });
    assert.equal(onlyId.downstream.headers!.has(PEER_METADATA), false);
    assert.equal(onlyId.downstream.headers!.get(PEER_ID), server.id);
    assert.equal(stateBytes(onlyId.filterState("wasm.downstream_peer_id"))?.toString(), client.id);
    onlyId.complete();
  });

  it("treats empty values as absent but still removes them", async () => {
    const { emu } = await mxProxy(server);
    const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    s.sendRequestHeaders({ ...request, [PEER_METADATA]: "", [PEER_ID]: "" }, { endStream: true });
    assert.equal(s.upstream.headers!.has(PEER_METADATA), false);
    assert.equal(s.upstream.headers!.has(PEER_ID), false);
    s.respond({ status: 200 });
    assert.equal(s.downstream.headers!.has(PEER_METADATA), false);
    assert.equal(s.downstream.headers!.has(PEER_ID), false);
    assert.equal(s.filterState("wasm.downstream_peer"), undefined);
    assert.equal(s.filterState("wasm.downstream_peer_id"), undefined);
    s.complete();
  });
});

describe("traffic direction", () => {
  it("does both sides when the listener has no direction (UNSPECIFIED)", async () => {
    const { emu } = await mxProxy(server);
    const s = emu.newStream();
    s.sendRequestHeaders({ ...request, ...clientHeaders }, { endStream: true });
    assert.deepEqual(decodeHeader(s.upstream.headers!.get(PEER_METADATA)), expectedPeerStruct(server), "request: ours replaces theirs");
    assert.deepEqual(stateBytes(s.filterState("wasm.downstream_peer")), clientStruct);
    s.respond({ status: 200 });
    assert.equal(s.downstream.headers!.get(PEER_ID), server.id, "response: answered, the request carried the headers");
    s.complete();
  });

  it("uses the configured direction only when the listener has none", async () => {
    const { emu } = await mxProxy(server, { direction: "INBOUND" });
    const unspecified = emu.newStream();
    unspecified.sendRequestHeaders({ ...request, ...clientHeaders }, { endStream: true });
    assert.equal(unspecified.upstream.headers!.has(PEER_METADATA), false, "configured INBOUND: nothing injected toward the app");
    unspecified.complete();

    const outbound = emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
    outbound.sendRequestHeaders(request, { endStream: true });
    assert.equal(outbound.upstream.headers!.get(PEER_ID), server.id, "the listener's OUTBOUND wins over the configuration");
    outbound.complete();
  });

  it("reads the direction per stream: one configuration serves inbound and outbound listeners (ECDS)", async () => {
    const { emu } = await mxProxy(server);
    const inbound = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    const outbound = emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
    inbound.sendRequestHeaders(request, { endStream: true });
    outbound.sendRequestHeaders(request, { endStream: true });
    assert.equal(inbound.upstream.headers!.has(PEER_ID), false);
    assert.equal(outbound.upstream.headers!.has(PEER_ID), true);
    inbound.complete();
    outbound.complete();
  });
});

describe("edge mode", () => {
  it("strips peer headers from downstream without trusting them, and still introduces itself upstream", async () => {
    const gateway = istioNode("istio-ingressgateway", "istio-system", "10.0.0.2");
    const { emu } = await mxProxy(gateway, { edge: true });
    const s = emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
    s.sendRequestHeaders({ ...request, ...clientHeaders }, { endStream: true });
    assert.equal(s.filterState("wasm.downstream_peer"), undefined);
    assert.equal(s.filterState("wasm.downstream_peer_id"), undefined);
    assert.deepEqual(s.upstream.headers!.getAll(PEER_ID), [gateway.id], "the client's id is gone, ours is sent");
    assert.deepEqual(decodeHeader(s.upstream.headers!.get(PEER_METADATA)), expectedPeerStruct(gateway));
    s.respond({ status: 200, headers: serverHeaders });
    assert.deepEqual(stateBytes(s.filterState("wasm.upstream_peer")), serverStruct, "upstream peers are still trusted");
    assert.equal(s.downstream.headers!.has(PEER_METADATA), false);
    s.complete();
    assert.equal(emu.counter("metadata_exchange.untrusted_peer_headers"), 1n);
  });

  it("on an inbound or unspecified listener answers nobody, since no request is trusted", async () => {
    const { emu } = await mxProxy(server, { edge: true });
    const s = emu.newStream();
    s.sendRequestHeaders({ ...request, ...clientHeaders }, { endStream: true });
    s.respond({ status: 200 });
    assert.equal(s.downstream.headers!.has(PEER_METADATA), false);
    assert.equal(s.downstream.headers!.has(PEER_ID), false);
    s.complete();
  });
});

describe("a node without metadata or id", () => {
  it("sends no empty headers but still strips and stores the peer's", async () => {
    const { emu } = await mxProxy({ id: "", cluster: "", metadata: {} });
    const s = emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
    s.sendRequestHeaders({ ...request, ...clientHeaders }, { endStream: true });
    assert.equal(s.upstream.headers!.has(PEER_METADATA), false);
    assert.equal(s.upstream.headers!.has(PEER_ID), false);
    assert.deepEqual(stateBytes(s.filterState("wasm.downstream_peer")), clientStruct);
    s.complete();
  });
});

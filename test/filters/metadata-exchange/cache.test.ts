// The per-VM peer cache (filters.md §1.3 "Cache"; Istio's updatePeer): keyed by peer id, a hit
// is served without decoding the value, when over max_peer_cache_size a quarter goes before the
// next insertion, and 0 disables it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Emulator } from "../../../host/emulator/index.js";
import { INBOUND, PEER_ID, PEER_METADATA, decodeStruct, encodeStruct, istioNode, mxProxy, request, stateBytes } from "./mx-kit.js";

const server = istioNode("reviews-v2", "default", "10.0.0.12");

/** Sends one inbound request from peer `id` announcing `workload`; returns the stored peer bytes. */
function exchange(emu: Emulator, id: string, workload: string): Buffer | undefined {
  const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
  s.sendRequestHeaders({ ...request, [PEER_ID]: id, [PEER_METADATA]: encodeStruct({ WORKLOAD_NAME: workload }).toString("base64") }, { endStream: true });
  const stored = stateBytes(s.filterState("wasm.downstream_peer"));
  s.complete();
  return stored;
}

/** WORKLOAD_NAME of stored peer bytes (decoded with protobufjs). */
const workloadOf = (bytes: Buffer | undefined): unknown => (bytes === undefined ? undefined : decodeStruct(bytes).WORKLOAD_NAME);

describe("peer cache", () => {
  it("serves a known id from the cache, without decoding what came with it (as Istio does)", async () => {
    const { emu } = await mxProxy(server);
    assert.equal(workloadOf(exchange(emu, "peer-a", "ratings-v1")), "ratings-v1");
    assert.equal(emu.counter("metadata_exchange.peer_cache_misses"), 1n);
    assert.equal(emu.counter("metadata_exchange.peer_cache_hits"), 0n);
    assert.equal(workloadOf(exchange(emu, "peer-a", "ratings-v2")), "ratings-v1", "cached by id");
    assert.equal(emu.counter("metadata_exchange.peer_cache_hits"), 1n);
    const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    s.sendRequestHeaders({ ...request, [PEER_ID]: "peer-a", [PEER_METADATA]: "!!not base64!!" }, { endStream: true });
    assert.equal(workloadOf(stateBytes(s.filterState("wasm.downstream_peer"))), "ratings-v1", "a hit does not even look at the value");
    assert.equal(emu.counter("metadata_exchange.peer_metadata_malformed"), 0n);
    s.complete();
  });

  it("decodes every time with max_peer_cache_size 0", async () => {
    const { emu } = await mxProxy(server, { max_peer_cache_size: 0 });
    assert.equal(workloadOf(exchange(emu, "peer-a", "ratings-v1")), "ratings-v1");
    assert.equal(workloadOf(exchange(emu, "peer-a", "ratings-v2")), "ratings-v2");
    assert.equal(emu.counter("metadata_exchange.peer_cache_hits"), 0n);
    assert.equal(emu.counter("metadata_exchange.peer_cache_misses"), 0n);
  });

  it("drops the oldest quarter once it holds more than max_peer_cache_size", async () => {
    const { emu } = await mxProxy(server, { max_peer_cache_size: 8 });
    for (let i = 0; i < 9; i++) exchange(emu, `peer-${i}`, "ratings-v1"); // 9 entries: max + 1, as in Istio
    assert.equal(workloadOf(exchange(emu, "peer-0", "ratings-v2")), "ratings-v1", "still cached at max + 1");
    exchange(emu, "peer-9", "ratings-v1"); // over max: peer-0 and peer-1 go, peer-9 comes in
    assert.equal(workloadOf(exchange(emu, "peer-0", "ratings-v2")), "ratings-v2", "evicted: decoded again");
    assert.equal(workloadOf(exchange(emu, "peer-2", "ratings-v2")), "ratings-v1", "not evicted");
    assert.equal(workloadOf(exchange(emu, "peer-9", "ratings-v2")), "ratings-v1");
  });

  it("caches nothing for a peer without an id", async () => {
    const { emu } = await mxProxy(server);
    for (const workload of ["ratings-v1", "ratings-v2"]) {
      const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
      s.sendRequestHeaders({ ...request, [PEER_METADATA]: encodeStruct({ WORKLOAD_NAME: workload }).toString("base64") }, { endStream: true });
      assert.equal(workloadOf(stateBytes(s.filterState("wasm.downstream_peer"))), workload);
      s.complete();
    }
    assert.equal(emu.counter("metadata_exchange.peer_cache_misses"), 0n);
  });

  it("keeps one cache per worker VM", async () => {
    const { emu } = await mxProxy(server, "", { concurrency: 2 });
    const onWorker = (worker: number, workload: string): unknown => {
      const s = emu.newStream({ worker, streamInfo: { listenerDirection: INBOUND } });
      s.sendRequestHeaders({ ...request, [PEER_ID]: "peer-a", [PEER_METADATA]: encodeStruct({ WORKLOAD_NAME: workload }).toString("base64") }, { endStream: true });
      const w = workloadOf(stateBytes(s.filterState("wasm.downstream_peer")));
      s.complete();
      return w;
    };
    assert.equal(onWorker(0, "ratings-v1"), "ratings-v1");
    assert.equal(onWorker(1, "ratings-v2"), "ratings-v2", "worker 1 has not seen peer-a");
    assert.equal(onWorker(0, "details-v1"), "ratings-v1");
  });
});

// Hostile input: malformed and oversize peer headers are counted and ignored, never a trap; and
// 10 000 random header values leave the VM alive with linear memory that stops growing after
// warm-up (the cache is bounded; everything else is garbage the collector takes back).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Emulator } from "../../../host/emulator/index.js";
import { INBOUND, OUTBOUND, PEER_ID, PEER_METADATA, encodeStruct, istioNode, mxProxy, request, stateBytes } from "./mx-kit.js";

const server = istioNode("reviews-v2", "default", "10.0.0.12");

/** Stores nothing and counts one malformed value. */
async function assertMalformed(value: string, why: string): Promise<void> {
  const { emu, plugin } = await mxProxy(server);
  const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
  s.sendRequestHeaders({ ...request, [PEER_METADATA]: value, [PEER_ID]: "peer-1" }, { endStream: true });
  assert.equal(s.filterState("wasm.downstream_peer"), undefined, why);
  assert.equal(stateBytes(s.filterState("wasm.downstream_peer_id"))?.toString(), "peer-1", `${why}: the id is still stored`);
  assert.equal(s.upstream.headers!.has(PEER_METADATA), false, `${why}: removed all the same`);
  s.respond({ status: 200 });
  assert.equal(s.downstream.headers!.has(PEER_METADATA), true, `${why}: the peer is in the mesh, it gets an answer`);
  s.complete();
  assert.equal(emu.counter("metadata_exchange.peer_metadata_malformed"), 1n, why);
  assert.equal(plugin.failed(), false);
}

/** A Struct nested `depth` levels deep, hand-encoded (deeper than protobuf encoders like to go). */
function nestedStruct(depth: number): Buffer {
  let value = Buffer.from([0x1a, 0x01, 0x78]); // Value{string_value: "x"}
  let struct = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) {
    const entry = Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12]), varint(value.length), value]); // {key "k", value}
    struct = Buffer.concat([Buffer.from([0x0a]), varint(entry.length), entry]); // Struct{fields: entry}
    value = Buffer.concat([Buffer.from([0x2a]), varint(struct.length), struct]); // Value{struct_value}
  }
  return struct;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

describe("malformed peer headers", () => {
  it("ignores a value that is not base64", () => assertMalformed("not*base64", "bad alphabet"));
  it("ignores base64 with a bad length or padding", () => assertMalformed("QUJDR", "5 characters"));
  it("ignores padding in the middle", () => assertMalformed("QQ==QUJD", "padding then data"));
  it("ignores base64 of something that is not a Struct", () => assertMalformed(Buffer.from("hello, world").toString("base64"), "text"));
  it("ignores a truncated Struct", () => assertMalformed(encodeStruct({ NAME: "reviews" }).subarray(0, 9).toString("base64"), "truncated"));
  it("ignores a Struct nested deeper than the decoder's limit", () => assertMalformed(nestedStruct(150).toString("base64"), "depth 150"));
  it("says why at debug level, and only there", async () => {
    for (const [logLevel, expected] of [["debug", 2], ["info", 0]] as const) {
      const { emu } = await mxProxy(server, "", { logLevel });
      const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
      s.sendRequestHeaders({ ...request, [PEER_METADATA]: "not*base64" }, { endStream: true });
      s.respond({ status: 200, headers: { [PEER_METADATA]: "CAE=" } });
      s.complete();
      const lines = emu.logs().filter((l) => l.includes("ignored x-envoy-peer-metadata"));
      assert.equal(lines.length, expected, lines.join("\n"));
      if (expected) {
        assert.match(lines[0]!, /ignored x-envoy-peer-metadata for downstream_peer: not base64$/);
        assert.match(lines[1]!, /ignored x-envoy-peer-metadata for upstream_peer: not a google.protobuf.Struct: Struct.fields has wire type 0, expected 2$/);
      }
    }
  });

  it("accepts the same Struct nested within the limit", async () => {
    const { emu } = await mxProxy(server);
    const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    const bytes = nestedStruct(50);
    s.sendRequestHeaders({ ...request, [PEER_METADATA]: bytes.toString("base64") }, { endStream: true });
    assert.deepEqual(stateBytes(s.filterState("wasm.downstream_peer")), bytes);
    s.complete();
  });

  it("removes and ignores values longer than max_peer_header_bytes, counting them", async () => {
    const { emu } = await mxProxy(server, { max_peer_header_bytes: 64 });
    const big = encodeStruct({ WORKLOAD_NAME: "x".repeat(80) }).toString("base64");
    const s = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    s.sendRequestHeaders({ ...request, [PEER_METADATA]: big, [PEER_ID]: "i".repeat(65) }, { endStream: true });
    assert.equal(s.upstream.headers!.has(PEER_METADATA), false);
    assert.equal(s.upstream.headers!.has(PEER_ID), false);
    assert.equal(s.filterState("wasm.downstream_peer"), undefined);
    assert.equal(s.filterState("wasm.downstream_peer_id"), undefined);
    s.complete();
    assert.equal(emu.counter("metadata_exchange.peer_header_oversize"), 2n);
    const ok = emu.newStream({ streamInfo: { listenerDirection: INBOUND } });
    const small = encodeStruct({ WORKLOAD_NAME: "x" }).toString("base64");
    ok.sendRequestHeaders({ ...request, [PEER_METADATA]: small, [PEER_ID]: "i".repeat(64) }, { endStream: true });
    assert.notEqual(ok.filterState("wasm.downstream_peer"), undefined, "64 bytes is within the limit");
    ok.complete();
  });
});

/** Deterministic PRNG (mulberry32), so that a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class RandomHeaders {
  private readonly deep = nestedStruct(120).toString("base64");
  constructor(private readonly random: () => number) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  /** Header-safe latin1 text (no control characters), as HTTP would carry. */
  text(max: number): string {
    let s = "";
    for (let i = this.int(max); i > 0; i--) {
      const c = 0x20 + this.int(0xe0);
      s += String.fromCharCode(c === 0x7f ? 0x41 : c);
    }
    return s;
  }
  bytes(max: number): Buffer {
    return Buffer.from(Array.from({ length: this.int(max) }, () => this.int(256)));
  }
  metadata(): string {
    switch (this.int(8)) {
      case 0:
        return this.text(200);
      case 1:
        return this.bytes(300).toString("base64");
      case 2:
        return this.bytes(300).toString("base64").replace(/=+$/, "");
      case 3: {
        const valid = encodeStruct({ WORKLOAD_NAME: this.text(40), LABELS: { app: this.text(10) }, N: this.random() }).toString("base64");
        return valid.slice(0, this.int(valid.length));
      }
      case 4:
        return this.int(20) === 0 ? "A".repeat(16385 + this.int(4000)) : this.deep;
      default:
        return encodeStruct({ WORKLOAD_NAME: `w-${this.int(5000)}`, NAMESPACE: this.text(20), LABELS: { app: this.text(12), version: "v1" } }).toString("base64");
    }
  }
  id(): string | undefined {
    switch (this.int(6)) {
      case 0:
        return undefined;
      case 1:
        return this.text(100);
      case 2:
        return "";
      default: {
        // 400 peers against a cache of 200: hits, misses and evictions.
        const n = this.int(400);
        return `sidecar~10.0.${n >> 8}.${n & 255}~pod-${n}.default~default.svc.cluster.local`;
      }
    }
  }
  headers(base: Record<string, string>): Record<string, string> {
    const out = { ...base };
    if (this.int(4) !== 0) out[PEER_METADATA] = this.metadata();
    const id = this.id();
    if (id !== undefined) out[PEER_ID] = id;
    return out;
  }
}

function randomStreams(emu: Emulator, gen: RandomHeaders, count: number): void {
  for (let i = 0; i < count; i++) {
    const s = emu.newStream({ streamInfo: { listenerDirection: gen.int(3) } });
    s.sendRequestHeaders(gen.headers(request), { endStream: true });
    s.respond({ status: 200, headers: gen.headers({}) });
    assert.equal(s.upstream.headers!.has(PEER_METADATA), s.streamInfo.listenerDirection !== INBOUND, "exchange headers never leak to an app");
    s.complete();
  }
}

describe("10 000 random peer header values", () => {
  it("never trap, and linear memory stops growing after warm-up", async () => {
    const { emu, plugin } = await mxProxy(server, { max_peer_cache_size: 200 });
    const gen = new RandomHeaders(prng(0x6d78));
    randomStreams(emu, gen, 3000);
    const afterWarmUp = plugin.memoryBytes();
    randomStreams(emu, gen, 7000);
    assert.equal(plugin.failed(), false);
    assert.equal(plugin.memoryBytes(), afterWarmUp, `linear memory grew from ${afterWarmUp} to ${plugin.memoryBytes()} bytes`);
    for (const c of ["peer_metadata_malformed", "peer_header_oversize", "peer_cache_hits", "peer_cache_misses"]) {
      assert.ok((emu.counter(`metadata_exchange.${c}`) ?? 0n) > 0n, `${c} was exercised`);
    }
    // Still exchanging correctly afterwards.
    const s = emu.newStream({ streamInfo: { listenerDirection: OUTBOUND } });
    s.sendRequestHeaders(request, { endStream: true });
    assert.equal(s.upstream.headers!.get(PEER_ID), server.id);
    s.complete();
  });
});

// Envoy FilterManager semantics (source/common/http/filter_manager.cc) with native test filters:
// iteration order, StopIteration vs StopAll, body buffering and limits, local replies through the
// encoder chain, trailers added at end of stream, log before destroy.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BodyBuffer } from "../../host/http/body-buffer.js";
import { FilterManager } from "../../host/http/filter-manager.js";
import {
  FilterDataStatus,
  FilterHeadersStatus,
  FilterTrailersStatus,
  type DecoderFilterCallbacks,
  type EncoderFilterCallbacks,
  type StreamFilter,
} from "../../host/http/filter.js";
import { HeaderMap } from "../../host/http/header-map.js";
import { newStreamInfo } from "../../host/http/stream-info.js";

type Script = Partial<{
  decodeHeaders: (h: HeaderMap, end: boolean) => FilterHeadersStatus;
  decodeData: (d: BodyBuffer, end: boolean) => FilterDataStatus;
  decodeTrailers: (t: HeaderMap) => FilterTrailersStatus;
  encodeHeaders: (h: HeaderMap, end: boolean) => FilterHeadersStatus;
  encodeData: (d: BodyBuffer, end: boolean) => FilterDataStatus;
  encodeTrailers: (t: HeaderMap) => FilterTrailersStatus;
}>;

/** A native filter that records its calls into a shared journal and follows a script. */
class TestFilter implements StreamFilter {
  dec!: DecoderFilterCallbacks;
  enc!: EncoderFilterCallbacks;
  constructor(
    readonly name: string,
    readonly journal: string[],
    readonly script: Script = {},
  ) {}
  setDecoderFilterCallbacks(c: DecoderFilterCallbacks): void {
    this.dec = c;
  }
  setEncoderFilterCallbacks(c: EncoderFilterCallbacks): void {
    this.enc = c;
  }
  decodeHeaders(h: HeaderMap, end: boolean): FilterHeadersStatus {
    this.journal.push(`${this.name}.decodeHeaders(${end})`);
    return this.script.decodeHeaders?.(h, end) ?? FilterHeadersStatus.Continue;
  }
  decodeData(d: BodyBuffer, end: boolean): FilterDataStatus {
    this.journal.push(`${this.name}.decodeData(${d.toString()},${end})`);
    return this.script.decodeData?.(d, end) ?? FilterDataStatus.Continue;
  }
  decodeTrailers(t: HeaderMap): FilterTrailersStatus {
    this.journal.push(`${this.name}.decodeTrailers`);
    return this.script.decodeTrailers?.(t) ?? FilterTrailersStatus.Continue;
  }
  encodeHeaders(h: HeaderMap, end: boolean): FilterHeadersStatus {
    this.journal.push(`${this.name}.encodeHeaders(${h.get(":status")},${end})`);
    return this.script.encodeHeaders?.(h, end) ?? FilterHeadersStatus.Continue;
  }
  encodeData(d: BodyBuffer, end: boolean): FilterDataStatus {
    this.journal.push(`${this.name}.encodeData(${d.toString()},${end})`);
    return this.script.encodeData?.(d, end) ?? FilterDataStatus.Continue;
  }
  encodeTrailers(t: HeaderMap): FilterTrailersStatus {
    this.journal.push(`${this.name}.encodeTrailers`);
    return this.script.encodeTrailers?.(t) ?? FilterTrailersStatus.Continue;
  }
  log(): void {
    this.journal.push(`${this.name}.log`);
  }
  onDestroy(): void {
    this.journal.push(`${this.name}.onDestroy`);
  }
}

/** The terminal filter: records the request (draining data like the router) and can answer. */
class Router {
  dec!: DecoderFilterCallbacks;
  body = "";
  headers: HeaderMap | null = null;
  trailers: HeaderMap | null = null;
  constructor(readonly journal: string[]) {}
  setDecoderFilterCallbacks(c: DecoderFilterCallbacks): void {
    this.dec = c;
  }
  decodeHeaders(h: HeaderMap, end: boolean): FilterHeadersStatus {
    this.journal.push(`router.decodeHeaders(${end})`);
    this.headers = h;
    return FilterHeadersStatus.StopIteration;
  }
  decodeData(d: BodyBuffer, end: boolean): FilterDataStatus {
    this.journal.push(`router.decodeData(${d.toString()},${end})`);
    this.body += d.toString();
    d.drain(d.length);
    return FilterDataStatus.StopIterationNoBuffer;
  }
  decodeTrailers(t: HeaderMap): FilterTrailersStatus {
    this.journal.push("router.decodeTrailers");
    this.trailers = t;
    return FilterTrailersStatus.StopIteration;
  }
  onDestroy(): void {
    this.journal.push("router.onDestroy");
  }
  respond(status: number, body?: string, trailers?: HeaderMap): void {
    this.dec.encodeHeaders(new HeaderMap([[":status", String(status)]]), !body && !trailers);
    if (body) this.dec.encodeData(new BodyBuffer(body), !trailers);
    if (trailers) this.dec.encodeTrailers(trailers);
  }
}

function setup(scripts: Script[], bufferLimitBytes?: number) {
  const journal: string[] = [];
  const filters = scripts.map((s, i) => new TestFilter(`f${i}`, journal, s));
  const router = new Router(journal);
  const downstream = { headers: null as HeaderMap | null, body: "", trailers: null as HeaderMap | null, end: false, reset: null as string | null, watermark: 0 };
  const fm = new FilterManager({
    streamInfo: newStreamInfo({ connection: { id: 1n, source: { ip: "127.0.0.1", port: 1 }, destination: { ip: "127.0.0.1", port: 2 }, mtls: false } }),
    filters: [...filters, router],
    bufferLimitBytes,
    downstream: {
      encodeHeaders: (h, end) => {
        downstream.headers = h;
        downstream.end = end;
        journal.push(`downstream.headers(${h.get(":status")},${end})`);
      },
      encodeData: (d, end) => {
        downstream.body += d.toString();
        downstream.end = end;
        journal.push(`downstream.data(${d.toString()},${end})`);
      },
      encodeTrailers: (t) => {
        downstream.trailers = t;
        downstream.end = true;
        journal.push("downstream.trailers");
      },
      resetStream: (details) => {
        downstream.reset = details;
      },
      onDecoderFilterAboveWriteBufferHighWatermark: () => void downstream.watermark++,
    },
  });
  return { fm, journal, filters, router, downstream };
}

const req = () => new HeaderMap([[":method", "POST"], [":path", "/"], [":authority", "h"]]);

describe("FilterManager iteration", () => {
  it("runs decoders in order, the terminal last, and encoders in reverse", () => {
    const { fm, journal, router } = setup([{}, {}]);
    fm.decodeHeaders(req(), true);
    router.respond(200, "ok");
    fm.finish();
    assert.deepEqual(journal, [
      "f0.decodeHeaders(true)",
      "f1.decodeHeaders(true)",
      "router.decodeHeaders(true)",
      "f1.encodeHeaders(200,false)",
      "f0.encodeHeaders(200,false)",
      "downstream.headers(200,false)",
      "f1.encodeData(ok,true)",
      "f0.encodeData(ok,true)",
      "downstream.data(ok,true)",
      "f0.log",
      "f1.log",
      "f0.onDestroy",
      "f1.onDestroy",
      "router.onDestroy",
    ]);
  });

  it("StopIteration on headers holds headers; data still reaches the filter, and Continue on data resumes both", () => {
    const { fm, journal, router } = setup([{ decodeHeaders: () => FilterHeadersStatus.StopIteration }, {}]);
    fm.decodeHeaders(req(), false);
    assert.deepEqual(journal, ["f0.decodeHeaders(false)"]);
    fm.decodeData(new BodyBuffer("abc"), true);
    assert.deepEqual(journal.slice(1), ["f0.decodeData(abc,true)", "f1.decodeHeaders(false)", "router.decodeHeaders(false)", "f1.decodeData(abc,true)", "router.decodeData(abc,true)"]);
    assert.equal(router.body, "abc");
  });

  it("StopAllIterationAndBuffer holds every frame until continueDecoding(), then delivers them to the stopped filter", () => {
    const { fm, journal, filters, router } = setup([{ decodeHeaders: () => FilterHeadersStatus.StopAllIterationAndBuffer }, {}]);
    fm.decodeHeaders(req(), false);
    fm.decodeData(new BodyBuffer("ab"), false);
    fm.decodeData(new BodyBuffer("cd"), true);
    assert.deepEqual(journal, ["f0.decodeHeaders(false)"]);
    assert.equal(filters[0]!.dec.decodingBuffer()?.toString(), "abcd");
    filters[0]!.dec.continueDecoding();
    assert.deepEqual(journal.slice(1), [
      "f1.decodeHeaders(false)",
      "router.decodeHeaders(false)",
      "f0.decodeData(abcd,true)",
      "f1.decodeData(abcd,true)",
      "router.decodeData(abcd,true)",
    ]);
    assert.equal(router.body, "abcd");
  });

  it("StopIterationAndBuffer on data accumulates until the filter continues", () => {
    let n = 0;
    const { fm, journal, router } = setup([{ decodeData: (_d, end) => (end ? FilterDataStatus.Continue : (n++, FilterDataStatus.StopIterationAndBuffer)) }]);
    fm.decodeHeaders(req(), false);
    fm.decodeData(new BodyBuffer("a"), false);
    fm.decodeData(new BodyBuffer("b"), false);
    fm.decodeData(new BodyBuffer("c"), true);
    assert.equal(n, 2);
    assert.equal(router.body, "abc");
    assert.deepEqual(journal.filter((j) => j.startsWith("router.decodeData")), ["router.decodeData(abc,true)"]);
  });

  it("answers 413 when a buffered request body exceeds the buffer limit, but not with watermark buffering", () => {
    const big = "x".repeat(11);
    const a = setup([{ decodeHeaders: () => FilterHeadersStatus.StopAllIterationAndBuffer }], 10);
    a.fm.decodeHeaders(req(), false);
    a.fm.decodeData(new BodyBuffer(big), true);
    assert.equal(a.downstream.headers?.get(":status"), "413");
    assert.equal(a.downstream.body, "Payload Too Large");
    assert.equal(a.fm.streamInfo.responseCodeDetails, "request_payload_too_large");
    const b = setup([{ decodeHeaders: () => FilterHeadersStatus.StopAllIterationAndWatermark }], 10);
    b.fm.decodeHeaders(req(), false);
    b.fm.decodeData(new BodyBuffer(big), true);
    assert.equal(b.downstream.headers, null);
    assert.equal(b.downstream.watermark, 1);
    // Exactly at the limit is fine (Envoy's watermark fires above it).
    const c = setup([{ decodeHeaders: () => FilterHeadersStatus.StopAllIterationAndBuffer }], 11);
    c.fm.decodeHeaders(req(), false);
    c.fm.decodeData(new BodyBuffer(big), true);
    assert.equal(c.downstream.headers, null);
  });

  it("answers 500 when a buffered response body exceeds the limit (reset if headers already left)", () => {
    const held = { encodeHeaders: () => FilterHeadersStatus.StopIteration, encodeData: () => FilterDataStatus.StopIterationAndBuffer };
    const a = setup([held], 4);
    a.fm.decodeHeaders(req(), true);
    a.router.dec.encodeHeaders(new HeaderMap([[":status", "200"]]), false);
    a.router.dec.encodeData(new BodyBuffer("12345"), false);
    assert.equal(a.downstream.headers?.get(":status"), "500");
    assert.equal(a.downstream.body, "Internal Server Error");
    assert.equal(a.fm.streamInfo.responseCodeDetails, "response_payload_too_large");
    // Headers passed (Continue) and went downstream: too late for a reply.
    const b = setup([{ encodeData: () => FilterDataStatus.StopIterationAndBuffer }], 4);
    b.fm.decodeHeaders(req(), true);
    b.router.dec.encodeHeaders(new HeaderMap([[":status", "200"]]), false);
    b.router.dec.encodeData(new BodyBuffer("12345"), false);
    assert.equal(b.downstream.headers?.get(":status"), "200");
    assert.equal(b.downstream.reset, "response_payload_too_large");
  });
});

describe("FilterManager local replies", () => {
  it("sends a reply from decodeHeaders through every encoder filter and stops decoding", () => {
    const { fm, journal, filters, downstream } = setup([{}, { decodeHeaders: () => (filters[1]!.dec.sendLocalReply({ status: 403, body: "no", grpcStatus: null, details: "denied", headers: [["x-why", "test"]] }), FilterHeadersStatus.StopIteration) }]);
    fm.decodeHeaders(req(), false);
    fm.decodeData(new BodyBuffer("ignored"), true);
    assert.deepEqual(journal, [
      "f0.decodeHeaders(false)",
      "f1.decodeHeaders(false)",
      "f1.encodeHeaders(403,false)",
      "f0.encodeHeaders(403,false)",
      "downstream.headers(403,false)",
      "f1.encodeData(no,true)",
      "f0.encodeData(no,true)",
      "downstream.data(no,true)",
    ]);
    assert.deepEqual(downstream.headers?.entries(), [[":status", "403"], ["x-why", "test"], ["content-length", "2"], ["content-type", "text/plain"]]);
    assert.equal(fm.streamInfo.responseCodeDetails, "denied");
    assert.equal(fm.streamInfo.responseCode, 403);
  });

  it("answers a gRPC request with a trailers-only reply", () => {
    const { fm, filters, downstream } = setup([{ decodeHeaders: () => (filters[0]!.dec.sendLocalReply({ status: 503, body: "down", grpcStatus: null, details: "x" }), FilterHeadersStatus.StopIteration) }]);
    fm.decodeHeaders(new HeaderMap([[":path", "/svc/m"], ["content-type", "application/grpc"]]), true);
    assert.deepEqual(downstream.headers?.entries(), [[":status", "200"], ["content-type", "application/grpc"], ["grpc-status", "14"], ["grpc-message", "down"]]);
    assert.equal(downstream.end, true);
  });

  it("bypasses encoder filters once they saw response headers, and resets once headers were sent", () => {
    const a = setup([{ encodeHeaders: () => FilterHeadersStatus.StopIteration, encodeData: () => FilterDataStatus.StopIterationAndBuffer }]);
    a.fm.decodeHeaders(req(), true);
    a.router.respond(200, "body");
    a.filters[0]!.enc.sendLocalReply({ status: 500, body: "oops", grpcStatus: null, details: "late" });
    assert.equal(a.downstream.headers?.get(":status"), "500");
    assert.equal(a.downstream.body, "oops");
    const b = setup([{}]);
    b.fm.decodeHeaders(req(), true);
    b.router.dec.encodeHeaders(new HeaderMap([[":status", "200"]]), false);
    b.filters[0]!.enc.sendLocalReply({ status: 500, body: "", grpcStatus: null, details: "too_late" });
    assert.equal(b.downstream.reset, "too_late");
  });
});

describe("FilterManager trailers", () => {
  it("lets a filter add trailers on the last data frame; later filters and the upstream get them", () => {
    const { fm, journal, filters, router } = setup([{ decodeData: (_d, end) => (end && filters[0]!.dec.addDecodedTrailers().add("x-t", "1"), FilterDataStatus.Continue) }, {}]);
    fm.decodeHeaders(req(), false);
    fm.decodeData(new BodyBuffer("b"), true);
    assert.deepEqual(journal.slice(-4), ["f1.decodeData(b,false)", "router.decodeData(b,false)", "f1.decodeTrailers", "router.decodeTrailers"]);
    assert.equal(router.trailers?.get("x-t"), "1");
    assert.throws(() => filters[0]!.dec.addDecodedTrailers(), /last data frame/);
  });

  it("passes response trailers through the encoders to downstream", () => {
    const { fm, router, downstream, journal } = setup([{}]);
    fm.decodeHeaders(req(), true);
    router.respond(200, "x", new HeaderMap([["grpc-status", "0"]]));
    assert.equal(downstream.trailers?.get("grpc-status"), "0");
    assert.deepEqual(journal.slice(-3), ["downstream.data(x,false)", "f0.encodeTrailers", "downstream.trailers"]);
    assert.equal(fm.localEncodeComplete, true);
  });
});

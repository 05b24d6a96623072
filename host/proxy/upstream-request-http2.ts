// An upstream attempt over HTTP/2 (clusters with http2_protocol_options): a stream on the host's
// pooled session, with :scheme/:authority/:path/:method from the router's headers, the response's
// trailers passed on, and stream resets classified as Envoy's reset reasons.
import http2 from "node:http2";
import { HeaderMap } from "../http/header-map.js";
import type { Http2Session } from "./http2-pool.js";
import { UpstreamRequest } from "./upstream-request.js";

/** Connection-specific headers HTTP/2 forbids (RFC 9113 §8.2.2); Envoy's codec drops them. */
const connectionSpecific = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"]);

/** Node's HTTP/2 header object from a header map (repeated names as arrays). */
export function http2Headers(headers: HeaderMap): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [k, v] of headers) {
    if (connectionSpecific.has(k) || (k === "te" && v !== "trailers")) continue;
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
  }
  return out;
}

/** A header map from Node's HTTP/2 headers, :status first. */
export function headerMapOf(headers: http2.IncomingHttpHeaders): HeaderMap {
  const map = new HeaderMap();
  if (headers[":status"] !== undefined) map.add(":status", String(headers[":status"]));
  for (const [k, v] of Object.entries(headers)) {
    if (k === ":status" || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) map.add(k, String(x));
  }
  return map;
}

export class Http2UpstreamRequest extends UpstreamRequest {
  private stream: http2.ClientHttp2Stream | undefined;
  private session: Http2Session | undefined;

  start(headers: HeaderMap, endStream: boolean): void {
    const h = headers.clone();
    if (!h.has(":scheme")) h.set(":scheme", "http");
    const session = this.host.cluster.http2.session(this.host);
    this.session = session;
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.session.request(http2Headers(h), { endStream });
    } catch (e) {
      // The session is already failing: as a pool failure.
      if (session.connected) this.onError(e as Error, true);
      else session.whenConnectFailed((err) => this.onError(err, false));
      return;
    }
    this.stream = stream;
    if (endStream) this.requestStarted = true;
    session.whenConnected(() => {
      if (this.done) return;
      const socket = session.session.socket;
      this.localAddress = socket?.localAddress ? { ip: socket.localAddress, port: socket.localPort ?? 0 } : undefined;
      this.guard(() => this.callbacks.onPoolReady(this));
    });
    stream.on("response", (responseHeaders, flags) => {
      if (this.done) return;
      this.awaitingHeaders = false;
      const end = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      if (end) this.done = true;
      this.guard(() => this.callbacks.onUpstreamHeaders(this, headerMapOf(responseHeaders), end));
    });
    const body = this.responseBody();
    stream.on("data", (chunk: Buffer) => body.push(chunk));
    let trailers: HeaderMap | undefined;
    stream.on("trailers", (t) => void (trailers = headerMapOf(t)));
    stream.on("end", () => {
      if (this.done) return;
      this.done = true;
      if (trailers) {
        // Body frames still batched go first; the trailers end the response.
        body.flushPending();
        body.cancel();
        const t = trailers;
        this.guard(() => this.callbacks.onUpstreamTrailers(this, t));
      } else {
        body.end();
      }
    });
    // Closed without an end: the connection never came up, or the peer reset the stream.
    const broken = (): void => {
      if (this.done) return;
      if (!session.connected) session.whenConnectFailed((err) => this.onError(err, false));
      else this.fail("remote reset", "");
    };
    stream.on("error", broken);
    stream.on("close", broken);
  }

  sendData(data: Buffer, endStream: boolean): boolean {
    const s = this.stream;
    if (!s || this.done || s.destroyed) return true;
    this.requestStarted = true;
    if (endStream) {
      s.end(data.length ? data : undefined);
      return true;
    }
    return data.length ? s.write(data) : true;
  }

  onceDrained(callback: () => void): void {
    if (this.stream && !this.done) this.stream.once("drain", callback);
    else callback();
  }

  onDownstreamBackedUp(): void {
    this.stream?.pause();
  }

  onDownstreamDrained(): void {
    this.stream?.resume();
  }

  protected destroy(): void {
    this.batcher?.cancel();
    if (this.stream && !this.stream.closed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

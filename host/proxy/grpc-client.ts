// Envoy's async gRPC client (envoy_grpc, source/common/grpc/async_client_impl.cc) for Wasm's
// proxy_grpc_call / proxy_grpc_stream: one HTTP/2 stream to the cluster per call, messages in the
// gRPC length-prefixed framing, and Envoy's mapping of outcomes to callbacks — initial metadata
// first (empty for a trailers-only answer), a non-200 answer closes with Canceled, trailers close
// with their grpc-status (Unknown when absent), a reset closes with Internal, and what the async
// client's router answers locally (connect failure, timeout) arrives as a trailers-only response
// with grpc-status Unavailable.
import http2 from "node:http2";
import type { Dispatcher, GrpcStream, GrpcStreamCallbacks, Logger } from "../envoy/server-context.js";
import { HeaderMap } from "../http/header-map.js";
import type { Cluster } from "./cluster.js";
import { connectFailure, UpstreamConnectError } from "./cluster.js";
import { headerMapOf, http2Headers } from "./upstream-request-http2.js";

const GRPC_OK = 0;
const GRPC_CANCELED = 1;
const GRPC_UNKNOWN = 2;
const GRPC_INTERNAL = 13;
const GRPC_UNAVAILABLE = 14;

/** A gRPC message with its 5-byte prefix (uncompressed flag, big-endian length). */
export function frameGrpcMessage(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/** Splits length-prefixed gRPC messages out of a byte stream. */
export class GrpcFrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  /** The complete messages now available; throws on a compressed message (none was negotiated). */
  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + length) break;
      if (this.pending[0] !== 0) throw new Error("compressed gRPC message without grpc-encoding");
      out.push(Buffer.from(this.pending.subarray(5, 5 + length)));
      this.pending = this.pending.subarray(5 + length);
    }
    return out;
  }
}

export class AsyncGrpcStream implements GrpcStream {
  private stream: http2.ClientHttp2Stream | undefined;
  private timer: ReturnType<Dispatcher["createTimer"]> | undefined;
  private closed = false;
  /** A local (router) reply is on its way; stream events no longer decide the outcome. */
  private answeredLocally = false;

  constructor(
    private readonly cluster: Cluster,
    service: string,
    method: string,
    initialMetadata: HeaderMap,
    timeoutMs: number,
    private readonly callbacks: GrpcStreamCallbacks,
    private readonly dispatcher: Dispatcher,
    private readonly log: Logger,
  ) {
    const host = cluster.chooseHost();
    if (!host) {
      this.localReply("no healthy upstream");
      return;
    }
    if (!cluster.model.http2) {
      // Envoy would speak gRPC over this cluster's HTTP/1.1, which gRPC servers refuse.
      this.localReply(`cluster ${cluster.name} has no http2_protocol_options: gRPC needs HTTP/2`);
      return;
    }
    const headers = new HeaderMap([
      [":method", "POST"],
      [":scheme", "http"],
      [":path", `/${service}/${method}`],
      // Envoy's envoy_grpc client uses the cluster name as :authority (unless configured).
      [":authority", cluster.name],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
    ]);
    if (timeoutMs > 0) headers.set("grpc-timeout", `${timeoutMs}m`);
    for (const [k, v] of initialMetadata) if (!k.startsWith(":")) headers.add(k, v);
    cluster.stats.upstream_rq_pending_total.inc();
    const session = cluster.http2.session(host);
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.session.request(http2Headers(headers));
    } catch {
      session.whenConnectFailed((e) => this.connectionFailed(e));
      return;
    }
    this.stream = stream;
    session.whenConnected(() => cluster.stats.upstream_rq_total.inc());
    if (timeoutMs > 0) {
      this.timer = dispatcher.createTimer(() => {
        cluster.stats.upstream_rq_timeout.inc();
        this.localReply("upstream request timeout");
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      this.timer.enable(timeoutMs);
    }
    const decoder = new GrpcFrameDecoder();
    let trailers: HeaderMap | undefined;
    stream.on("response", (h, flags) => {
      if (this.closed) return;
      const map = headerMapOf(h);
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      this.safely(() => this.callbacks.onInitialMetadata(endStream ? new HeaderMap() : map));
      if (map.get(":status") !== "200" && !(endStream && map.has("grpc-status"))) return this.finish(GRPC_CANCELED, "");
      if (endStream) this.onTrailers(map);
    });
    stream.on("data", (chunk: Buffer) => {
      if (this.closed || this.answeredLocally) return;
      let messages: Buffer[];
      try {
        messages = decoder.push(chunk);
      } catch (e) {
        return this.finish(GRPC_INTERNAL, (e as Error).message);
      }
      for (const m of messages) this.safely(() => this.callbacks.onMessage(m));
    });
    stream.on("trailers", (t) => void (trailers = headerMapOf(t)));
    stream.on("end", () => {
      if (this.closed || this.answeredLocally) return;
      if (trailers) this.onTrailers(trailers);
      else this.finish(GRPC_INTERNAL, "");
    });
    const broken = (): void => {
      if (this.closed || this.answeredLocally) return;
      if (!session.connected) session.whenConnectFailed((e) => this.connectionFailed(e));
      else this.finish(GRPC_INTERNAL, "");
    };
    stream.on("error", broken);
    stream.on("close", broken);
  }

  private onTrailers(trailers: HeaderMap): void {
    if (this.closed) return;
    const status = trailers.get("grpc-status");
    const message = decodeURIComponent(trailers.get("grpc-message") ?? "");
    this.safely(() => this.callbacks.onTrailingMetadata(trailers));
    this.finish(status !== undefined && /^\d+$/.test(status) ? Number(status) : GRPC_UNKNOWN, message);
  }

  /** What the async client's router answers locally: a trailers-only Unavailable response. */
  private localReply(message: string): void {
    if (this.closed || this.answeredLocally) return;
    this.answeredLocally = true;
    this.dispatcher.post(() => {
      if (this.closed) return;
      const trailers = new HeaderMap([
        [":status", "200"],
        ["content-type", "application/grpc"],
        ["grpc-status", String(GRPC_UNAVAILABLE)],
        ["grpc-message", encodeURIComponent(message)],
      ]);
      this.safely(() => this.callbacks.onInitialMetadata(new HeaderMap()));
      this.onTrailers(trailers);
    });
  }

  private connectionFailed(error: Error): void {
    const f = error instanceof UpstreamConnectError ? error : connectFailure(error as NodeJS.ErrnoException);
    this.localReply(
      `upstream connect error or disconnect/reset before headers. reset reason: ${f.resetReason}${f.transportFailureReason ? `, transport failure reason: ${f.transportFailureReason}` : ""}`,
    );
  }

  /** The call is over: onClose once (Envoy onRemoteClose). */
  private finish(status: number, message: string): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.disable();
    if (status !== GRPC_OK && this.stream && !this.stream.closed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
    this.safely(() => this.callbacks.onClose(status, message));
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.log.log("wasm", "critical", `gRPC callback failed: ${(e as Error).stack ?? (e as Error).message}`);
    }
  }

  send(message: Buffer, endStream: boolean): void {
    const s = this.stream;
    if (!s || this.closed || s.destroyed) return;
    const framed = frameGrpcMessage(message);
    if (endStream) s.end(framed);
    else s.write(framed);
  }

  /** proxy_grpc_close: half-close our side; the call continues until the server closes. */
  close(): void {
    if (this.stream && !this.stream.writableEnded) this.stream.end();
  }

  /** proxy_grpc_cancel: reset without more callbacks. */
  cancel(): void {
    this.closed = true;
    this.timer?.disable();
    if (this.stream && !this.stream.closed) this.stream.close(http2.constants.NGHTTP2_CANCEL);
  }
}

// One upstream attempt of the router (Envoy Router::UpstreamRequest): the request is sent on a
// pooled connection to the chosen host, streamed as the router hands it data, and the response is
// streamed back; failures are classified as Envoy's stream reset reasons. HTTP/1.1 here,
// HTTP/2 (clusters with http2_protocol_options) in upstream-request-http2.ts.
import http from "node:http";
import { BodyBuffer } from "../http/body-buffer.js";
import { HeaderMap } from "../http/header-map.js";
import { UpstreamConnectError, connectFailure, type UpstreamHost } from "./cluster.js";
import { DispatchBatcher } from "./dispatch-batcher.js";
import type { ResetReason } from "./retry-state.js";

export interface UpstreamRequestCallbacks {
  /** A connection was assigned (Envoy onPoolReady): the attempt is counted. */
  onPoolReady(request: UpstreamRequest): void;
  onUpstreamHeaders(request: UpstreamRequest, headers: HeaderMap, endStream: boolean): void;
  onUpstreamData(request: UpstreamRequest, data: BodyBuffer, endStream: boolean): void;
  /** Response trailers end the response (HTTP/2 upstreams; HTTP/1.1 trailers are not read). */
  onUpstreamTrailers(request: UpstreamRequest, trailers: HeaderMap): void;
  onUpstreamReset(request: UpstreamRequest, reason: ResetReason, transportFailureReason: string): void;
  /** A callback above threw: a bug, reported instead of crashing the process. */
  onInternalError(request: UpstreamRequest, error: Error): void;
}

const connectErrors = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EADDRNOTAVAIL"]);

/** What the two codecs share: attempt state, failure classification, callback guarding. */
export abstract class UpstreamRequest {
  protected done = false;
  /** Response headers not yet received (Envoy awaitingHeaders()). */
  awaitingHeaders = true;
  /** First request byte handed to the connection (Envoy first_upstream_tx_byte_sent). */
  requestStarted = false;
  /** Retried after a per-try timeout (Envoy UpstreamRequest::retried()). */
  retried = false;
  localAddress: { ip: string; port: number } | undefined;
  protected batcher: DispatchBatcher | undefined;

  constructor(
    readonly host: UpstreamHost,
    protected readonly callbacks: UpstreamRequestCallbacks,
  ) {}

  /** Starts the attempt with the router's (already mutated) request headers. */
  abstract start(headers: HeaderMap, endStream: boolean): void;
  /** Streams request body bytes; returns false when the connection's buffer is full. */
  abstract sendData(data: Buffer, endStream: boolean): boolean;
  /** Waits for the request body to drain into the connection. */
  abstract onceDrained(callback: () => void): void;
  /** Stops reading the response while downstream cannot take more. */
  abstract onDownstreamBackedUp(): void;
  /** Resumes reading the response after downstream backpressure eased. */
  abstract onDownstreamDrained(): void;
  protected abstract destroy(): void;

  /** Body chunks of one event-loop turn go up as one frame (see DispatchBatcher). */
  protected responseBody(): DispatchBatcher {
    this.batcher = new DispatchBatcher((data, endStream) => {
      if (this.done && !endStream) return;
      this.guard(() => this.callbacks.onUpstreamData(this, data, endStream));
    });
    return this.batcher;
  }

  /** A transport error: a connect failure before the connection was up, else a termination. */
  protected onError(err: NodeJS.ErrnoException, connected: boolean): void {
    if (this.done) return;
    if (err instanceof UpstreamConnectError) return this.fail(err.resetReason as ResetReason, err.transportFailureReason);
    if (!connected && err.code && connectErrors.has(err.code)) {
      const f = connectFailure(err);
      return this.fail(f.resetReason as ResetReason, f.transportFailureReason);
    }
    this.fail("connection termination", "");
  }

  protected fail(reason: ResetReason, transportFailureReason: string): void {
    if (this.done) return;
    this.done = true;
    this.destroy();
    this.guard(() => this.callbacks.onUpstreamReset(this, reason, transportFailureReason));
  }

  /** Runs a callback from a Node event, turning an exception into onInternalError. */
  protected guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.reset();
      this.callbacks.onInternalError(this, e as Error);
    }
  }

  /** Envoy resetStream(): abandons the attempt; the connection is not reused. */
  reset(): void {
    if (this.done) return;
    this.done = true;
    this.destroy();
  }
}

/** Hop-by-hop headers the HTTP/1.1 codec manages itself rather than forwarding. */
const notForwarded = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

/** HTTP/1.1 over the cluster's keep-alive agent (Envoy's HTTP/1 codec and connection pool). */
export class Http1UpstreamRequest extends UpstreamRequest {
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;
  private method = "GET";

  start(headers: HeaderMap, endStream: boolean): void {
    this.method = headers.get(":method") ?? "GET";
    const req = http.request({
      host: this.host.address,
      port: this.host.port,
      method: this.method,
      path: headers.get(":path") ?? "/",
      agent: this.host.cluster.agent,
      setHost: false,
    });
    this.req = req;
    try {
      req.setHeader("host", headers.get(":authority") ?? "");
      const grouped = new Map<string, string[]>();
      for (const [k, v] of headers) {
        if (k.startsWith(":") || k === "host" || notForwarded.has(k)) continue;
        const list = grouped.get(k);
        if (list) list.push(v);
        else grouped.set(k, [v]);
      }
      for (const [k, v] of grouped) req.setHeader(k, v.length === 1 ? v[0]! : v);
      // Envoy's codec sends no Connection header on a persistent HTTP/1.1 connection.
      req.removeHeader("connection");
    } catch (e) {
      this.fail("local reset", `invalid request header: ${(e as Error).message}`);
      return;
    }
    req.on("socket", (socket) => {
      const ready = (): void => {
        if (this.done) return;
        this.localAddress = socket.localAddress ? { ip: socket.localAddress, port: socket.localPort ?? 0 } : undefined;
        this.guard(() => this.callbacks.onPoolReady(this));
      };
      if (socket.connecting) socket.once("connect", ready);
      else ready();
    });
    req.on("response", (res) => this.onResponse(res));
    req.on("error", (err: NodeJS.ErrnoException) => {
      const socket = this.req?.socket;
      this.onError(err, this.requestStarted && !!socket?.remoteAddress);
    });
    if (endStream) this.send(undefined, true);
  }

  sendData(data: Buffer, endStream: boolean): boolean {
    return this.send(data, endStream);
  }

  private send(data: Buffer | undefined, endStream: boolean): boolean {
    const req = this.req;
    if (!req || this.done || req.destroyed) return true;
    this.requestStarted = true;
    if (endStream) {
      if (data && data.length) req.end(data);
      else req.end();
      return true;
    }
    return data && data.length ? req.write(data) : true;
  }

  onDownstreamDrained(): void {
    this.res?.resume();
  }

  onDownstreamBackedUp(): void {
    this.res?.pause();
  }

  onceDrained(callback: () => void): void {
    if (this.req && !this.done) this.req.once("drain", callback);
    else callback();
  }

  private onResponse(res: http.IncomingMessage): void {
    if (this.done) {
      res.resume();
      return;
    }
    this.res = res;
    this.awaitingHeaders = false;
    const headers = new HeaderMap([[":status", String(res.statusCode ?? 0)]]);
    const raw = res.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) headers.add(raw[i]!.toLowerCase(), raw[i + 1]!);
    // As Envoy's HTTP/1 codec, a response that cannot have a body ends with its headers.
    const status = res.statusCode ?? 0;
    const noBody = this.method === "HEAD" || status === 204 || status === 304 || headers.get("content-length") === "0";
    if (noBody) {
      this.done = true;
      res.resume();
    }
    this.guard(() => this.callbacks.onUpstreamHeaders(this, headers, noBody));
    if (this.done) return;
    const body = this.responseBody();
    res.on("data", (chunk: Buffer) => body.push(chunk));
    res.on("end", () => {
      if (this.done) return;
      this.done = true;
      body.end();
    });
    res.on("aborted", () => this.fail("connection termination", ""));
    res.on("error", () => this.fail("connection termination", ""));
  }

  protected destroy(): void {
    this.batcher?.cancel();
    this.res?.destroy();
    this.req?.destroy();
  }
}

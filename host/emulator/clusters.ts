// A scripted cluster manager for the emulator: HTTP and gRPC callouts to named clusters are
// recorded as pending calls that the test answers, fails or lets time out — or that a responder
// registered for the cluster answers automatically (on the next dispatcher turn, never inline,
// as Envoy's async client never answers inside proxy_http_call).
import type {
  AsyncRequest,
  ClusterManager,
  Dispatcher,
  GrpcStream,
  GrpcStreamCallbacks,
  HttpCallCallbacks,
} from "../envoy/server-context.js";
import { HeaderMap } from "../http/header-map.js";

export type HeadersInit = HeaderMap | Record<string, string | string[]> | Array<[string, string]>;

export function toHeaderMap(h: HeadersInit | undefined): HeaderMap {
  if (!h) return new HeaderMap();
  if (h instanceof HeaderMap) return h;
  return Array.isArray(h) ? new HeaderMap(h) : HeaderMap.fromObject(h);
}

export interface HttpCalloutResponse {
  /** :status (default 200). */
  status?: number;
  headers?: HeadersInit;
  body?: string | Uint8Array;
  trailers?: HeadersInit;
}

/** What a responder returns: a response, "reset" (a failed call), or undefined (leave pending). */
export type HttpResponder = (call: PendingHttpCall) => HttpCalloutResponse | "reset" | undefined;

let nextCallId = 1;

/** One proxy_http_call as the cluster received it. */
export class PendingHttpCall implements AsyncRequest {
  readonly id = nextCallId++;
  state: "pending" | "answered" | "failed" | "cancelled" | "timed out" = "pending";
  private timer: { disable(): void } | null = null;

  constructor(
    readonly cluster: string,
    readonly headers: HeaderMap,
    readonly body: Buffer,
    readonly trailers: HeaderMap | null,
    readonly timeoutMs: number,
    private readonly callbacks: HttpCallCallbacks,
    dispatcher: Dispatcher,
  ) {
    if (timeoutMs > 0) {
      const t = dispatcher.createTimer(() => this.timeout());
      t.enable(timeoutMs);
      this.timer = t;
    }
  }

  get pending(): boolean {
    return this.state === "pending";
  }

  /** Delivers a response (proxy_on_http_call_response with its headers, body and trailers). */
  respond(response: HttpCalloutResponse = {}): void {
    this.settle("answered");
    const headers = toHeaderMap(response.headers);
    if (!headers.has(":status")) headers.set(":status", String(response.status ?? 200));
    const body = typeof response.body === "string" ? Buffer.from(response.body) : Buffer.from(response.body ?? []);
    this.callbacks.onSuccess(headers, body, response.trailers ? toHeaderMap(response.trailers) : null);
  }

  /** The call fails without a response (reset): the module sees 0,0,0 and status 11 "reset". */
  fail(reason: "reset" | "exceeded_response_buffer_limit" = "reset"): void {
    this.settle("failed");
    this.callbacks.onFailure(reason);
  }

  /** Envoy's router answers a timed-out callout with a synthetic 504. */
  private timeout(): void {
    if (!this.pending) return;
    this.state = "timed out";
    this.timer = null;
    const body = "upstream request timeout";
    this.callbacks.onSuccess(
      new HeaderMap([
        [":status", "504"],
        ["content-length", String(body.length)],
        ["content-type", "text/plain"],
      ]),
      Buffer.from(body),
      null,
    );
  }

  cancel(): void {
    if (this.pending) this.settle("cancelled");
  }

  private settle(state: PendingHttpCall["state"]): void {
    if (!this.pending) throw new Error(`HTTP callout #${this.id} to ${this.cluster} is already ${this.state}`);
    this.state = state;
    this.timer?.disable();
    this.timer = null;
  }
}

/** One gRPC call or stream (proxy_grpc_call / proxy_grpc_stream) as the cluster received it. */
export class PendingGrpcCall implements GrpcStream {
  readonly id = nextCallId++;
  /** Messages the module sent (a unary call sends exactly one). */
  readonly sent: Buffer[] = [];
  localClosed = false;
  cancelled = false;
  remoteClosed = false;

  constructor(
    readonly cluster: string,
    readonly service: string,
    readonly method: string,
    readonly initialMetadata: HeaderMap,
    readonly timeoutMs: number,
    private readonly callbacks: GrpcStreamCallbacks,
  ) {}

  get pending(): boolean {
    return !this.remoteClosed && !this.cancelled;
  }

  send(message: Buffer, endStream: boolean): void {
    this.sent.push(Buffer.from(message));
    if (endStream) this.localClosed = true;
  }
  close(): void {
    this.localClosed = true;
  }
  cancel(): void {
    this.cancelled = true;
  }

  /** Server → module: initial metadata (streams only; unary calls ignore it, like Envoy). */
  sendInitialMetadata(metadata: HeadersInit): void {
    this.callbacks.onInitialMetadata(toHeaderMap(metadata));
  }
  sendMessage(message: string | Uint8Array): void {
    this.callbacks.onMessage(Buffer.from(typeof message === "string" ? Buffer.from(message) : message));
  }
  sendTrailingMetadata(metadata: HeadersInit): void {
    this.callbacks.onTrailingMetadata(toHeaderMap(metadata));
  }
  /** Ends the call with a gRPC status (0 OK; a unary failure is delivered as proxy_on_grpc_close). */
  closeWith(status: number, message = ""): void {
    this.remoteClosed = true;
    this.callbacks.onClose(status, message);
  }
  /** Unary success: the response message, then OK. */
  reply(message: string | Uint8Array): void {
    this.sendMessage(message);
    this.closeWith(0);
  }
}

export class ScriptedClusterManager implements ClusterManager {
  private readonly clusters = new Map<string, HttpResponder | null>();
  readonly httpCalls: PendingHttpCall[] = [];
  readonly grpcCalls: PendingGrpcCall[] = [];

  constructor(private readonly dispatcher: Dispatcher) {}

  /** Declares a cluster; with a responder, its callouts are answered automatically. */
  addCluster(name: string, responder?: HttpResponder): void {
    this.clusters.set(name, responder ?? null);
  }

  hasCluster(name: string): boolean {
    return this.clusters.has(name);
  }

  httpCall(cluster: string, headers: HeaderMap, body: Buffer, trailers: HeaderMap | null, timeoutMs: number, callbacks: HttpCallCallbacks): AsyncRequest {
    const call = new PendingHttpCall(cluster, headers.clone(), Buffer.from(body), trailers?.clone() ?? null, timeoutMs, callbacks, this.dispatcher);
    this.httpCalls.push(call);
    const responder = this.clusters.get(cluster);
    if (responder) {
      this.dispatcher.post(() => {
        if (!call.pending) return;
        const r = responder(call);
        if (r === "reset") call.fail();
        else if (r) call.respond(r);
      });
    }
    return call;
  }

  grpcStream(cluster: string, service: string, method: string, initialMetadata: HeaderMap, timeoutMs: number, callbacks: GrpcStreamCallbacks): GrpcStream {
    const call = new PendingGrpcCall(cluster, service, method, initialMetadata.clone(), timeoutMs, callbacks);
    this.grpcCalls.push(call);
    return call;
  }
}

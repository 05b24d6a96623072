// One static listener: a plaintext HTTP/1.1 server whose connections are pinned to workers round
// robin (Envoy balances accepted connections over its worker threads), counted in Envoy's
// listener stats, and handed to the listener's HTTP connection manager.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ListenerModel } from "../config/model.js";
import type { StatsStore } from "../envoy/server-context.js";
import { listenOn } from "./admin.js";
import { normalizeIp } from "./conn-manager-utility.js";
import { ConnectionManager, type ConnectionManagerOptions, type DownstreamConnection } from "./connection-manager.js";
import { httpDate } from "./date-provider.js";
import { Scope } from "./stat-names.js";

/** Envoy's default request header size limit (max_request_headers_kb = 60). */
const MAX_REQUEST_HEADERS_BYTES = 60 * 1024;

/** listener.<stat_prefix>. or, without one, listener.<address>_<port>. as Envoy names them. */
export function listenerStatPrefix(model: ListenerModel): string {
  if (model.statPrefix) return `listener.${model.statPrefix}.`;
  const a = model.address.address;
  return `listener.${a.includes(":") ? `[${a}]` : a}_${model.address.port}.`;
}

let nextConnectionId = 0n;

export class Listener {
  readonly server: http.Server;
  readonly cm: ConnectionManager;
  private readonly scope: Scope;
  private readonly connections = new WeakMap<Socket, DownstreamConnection>();
  private nextWorker = 0;
  bound: AddressInfo | undefined;

  constructor(
    readonly model: ListenerModel,
    private readonly concurrency: number,
    stats: StatsStore,
    options: Omit<ConnectionManagerOptions, "listener" | "listenerScope" | "stats">,
  ) {
    this.scope = new Scope(stats, listenerStatPrefix(model));
    for (const n of ["downstream_cx_total", "downstream_cx_destroy", "no_filter_chain_match"]) this.scope.counter(n);
    this.scope.gauge("downstream_cx_active");
    this.cm = new ConnectionManager({ ...options, listener: model, stats, listenerScope: this.scope });
    this.server = http.createServer({ maxHeaderSize: MAX_REQUEST_HEADERS_BYTES, requireHostHeader: false });
    // Envoy's HCM idle timeout is 1 h and there is no request timeout by default.
    this.server.keepAliveTimeout = 3_600_000;
    this.server.requestTimeout = 0;
    this.server.on("connection", (socket: Socket) => this.onConnection(socket));
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => this.onCodecError(err, socket));
    this.server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const conn = this.connections.get(req.socket);
      if (conn) this.cm.onRequest(req, res, conn);
      else res.destroy();
    });
  }

  private onConnection(socket: Socket): void {
    const worker = this.nextWorker;
    this.nextWorker = (this.nextWorker + 1) % this.concurrency;
    const info = {
      id: nextConnectionId++,
      source: { ip: normalizeIp(socket.remoteAddress ?? ""), port: socket.remotePort ?? 0 },
      destination: { ip: normalizeIp(socket.localAddress ?? ""), port: socket.localPort ?? 0 },
      mtls: false,
    };
    this.connections.set(socket, { info, worker });
    const workerScope = this.scope.scope(`worker_${worker}`);
    for (const s of [this.scope, workerScope]) {
      s.counter("downstream_cx_total").inc();
      s.gauge("downstream_cx_active").add(1n);
    }
    socket.once("close", () => {
      this.scope.counter("downstream_cx_destroy").inc();
      for (const s of [this.scope, workerScope]) s.gauge("downstream_cx_active").sub(1n);
    });
    this.cm.onConnection(socket);
  }

  /**
   * A request Node's parser rejects (Envoy's HTTP/1 codec errors): oversized headers get 431,
   * anything else 400, with the status text as body, and the connection is closed.
   */
  private onCodecError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (!socket.writable || err.code === "ECONNRESET") {
      socket.destroy();
      return;
    }
    const status = err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
    const body = http.STATUS_CODES[status]!;
    // Envoy's HTTP/1 codec details (Http1ResponseCodeDetails), logged as every local reply is.
    this.cm.options.log.log("http", "debug", `Sending local reply with details ${status === 431 ? "http1.headers_too_large" : "http1.codec_error"}`);
    const s = this.cm.stats;
    s.downstream_rq_total.inc();
    s.downstream_rq_http1_total.inc();
    this.cm.chargeResponseCode(status);
    socket.end(
      `HTTP/1.1 ${status} ${body}\r\ncontent-length: ${body.length}\r\ncontent-type: text/plain\r\n` +
        `date: ${httpDate()}\r\nserver: ${this.cm.hcm.serverName}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  async listen(): Promise<AddressInfo> {
    this.bound = await listenOn(this.server, this.model.address.address, this.model.address.port, `listener '${this.model.name}'`);
    return this.bound;
  }

  /** Stops accepting and closes every connection (Envoy's listener removal at shutdown). */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

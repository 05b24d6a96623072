// HTTP/2 connections of a cluster configured with http2_protocol_options: one multiplexed session
// per host (Envoy's HTTP/2 connection pool keeps one connection and opens streams on it), opened
// lazily, bounded by connect_timeout and counted in the cluster's stats, replaced once it closes
// or receives GOAWAY.
import http2 from "node:http2";
import net from "node:net";
import type { Cluster, UpstreamHost } from "./cluster.js";

export interface Http2Session {
  session: http2.ClientHttp2Session;
  /** The TCP (and HTTP/2 preface) connect completed. */
  connected: boolean;
  /** Why the connection failed, once it did. */
  error?: Error;
  /** Runs `f` once connected (at once if already). */
  whenConnected(f: () => void): void;
  /**
   * Runs `f` with the connect error once the session is gone without having connected; streams
   * can close before the session reports why, so they wait for this.
   */
  whenConnectFailed(f: (error: Error) => void): void;
}

export class Http2Pool {
  private readonly sessions = new Map<UpstreamHost, Http2Session>();

  constructor(private readonly cluster: Cluster) {}

  session(host: UpstreamHost): Http2Session {
    const existing = this.sessions.get(host);
    if (existing && !existing.session.closed && !existing.session.destroyed) return existing;
    const waiting: Array<() => void> = [];
    const failWaiting: Array<(e: Error) => void> = [];
    let gone = false;
    const session = http2.connect(`http://${host.address.includes(":") ? `[${host.address}]` : host.address}:${host.port}`, {
      createConnection: () => {
        const socket = net.createConnection({ host: host.address, port: host.port });
        this.cluster.trackConnection(socket, host, "http2");
        return socket;
      },
    });
    const entry: Http2Session = {
      session,
      connected: false,
      whenConnected: (f) => (entry.connected ? f() : void waiting.push(f)),
      whenConnectFailed: (f) => {
        if (entry.connected) return;
        if (gone) f(entry.error ?? new Error("connection closed"));
        else failWaiting.push(f);
      },
    };
    session.once("connect", () => {
      entry.connected = true;
      for (const f of waiting.splice(0)) f();
    });
    // Errors reach the streams; the session only records why it failed.
    session.on("error", (e: Error) => void (entry.error = e));
    const forget = (): void => {
      if (this.sessions.get(host) === entry) this.sessions.delete(host);
    };
    session.once("close", () => {
      forget();
      gone = true;
      if (!entry.connected) for (const f of failWaiting.splice(0)) f(entry.error ?? new Error("connection closed"));
    });
    session.once("goaway", forget);
    this.sessions.set(host, entry);
    return entry;
  }

  close(): void {
    for (const s of this.sessions.values()) s.session.destroy();
    this.sessions.clear();
  }
}

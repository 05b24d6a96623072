// One upstream cluster: its hosts (STATIC addresses, or DNS names resolved as STRICT_DNS /
// LOGICAL_DNS do), round-robin host selection, and a keep-alive HTTP/1.1 connection pool whose
// connects are bounded by connect_timeout and counted in Envoy's cluster stats.
import { lookup, type LookupAddress } from "node:dns";
import http from "node:http";
import net from "node:net";
import type { ClusterModel, EndpointModel } from "../config/model.js";
import type { Logger, StatsStore } from "../envoy/server-context.js";
import { Http2Pool } from "./http2-pool.js";
import { clusterStats, type ClusterStats } from "./stat-names.js";

/** Envoy HostStats, shown per host by GET /clusters (not part of /stats). */
export interface HostStats {
  cx_active: number;
  cx_connect_fail: number;
  cx_total: number;
  rq_active: number;
  rq_error: number;
  rq_success: number;
  rq_timeout: number;
  rq_total: number;
}

export interface UpstreamHost {
  readonly cluster: Cluster;
  /** IP address connected to. */
  address: string;
  readonly port: number;
  /** Envoy HostDescription::hostname(): the DNS name for DNS clusters, else Endpoint.hostname. */
  readonly hostname: string;
  readonly metadata?: Record<string, unknown>;
  readonly locality?: EndpointModel["locality"];
  readonly stats: HostStats;
}

/** Resolves a DNS name to addresses of the requested family order (tests may override it). */
export type Resolver = (name: string, family: ClusterModel["dnsLookupFamily"]) => Promise<string[]>;

function lookupFamily(name: string, family: 4 | 6): Promise<string[]> {
  return new Promise((resolve) => {
    lookup(name, { family, all: true }, (err, addresses: LookupAddress[]) => resolve(err ? [] : addresses.map((a) => a.address)));
  });
}

/**
 * Envoy's dns_lookup_family: AUTO asks for IPv6 and falls back to IPv4, V4_PREFERRED the reverse,
 * ALL returns both, V4_ONLY / V6_ONLY one family.
 */
export const systemResolver: Resolver = async (name, family) => {
  switch (family) {
    case "V4_ONLY":
      return lookupFamily(name, 4);
    case "V6_ONLY":
      return lookupFamily(name, 6);
    case "V4_PREFERRED": {
      const v4 = await lookupFamily(name, 4);
      return v4.length ? v4 : lookupFamily(name, 6);
    }
    case "ALL":
      return [...(await lookupFamily(name, 4)), ...(await lookupFamily(name, 6))];
    default: {
      const v6 = await lookupFamily(name, 6);
      return v6.length ? v6 : lookupFamily(name, 4);
    }
  }
};

/** A connect error the pool reports: why the connection to an upstream host failed. */
export class UpstreamConnectError extends Error {
  constructor(
    /** Envoy StreamResetReason text: "remote connection failure" or "connection timeout". */
    readonly resetReason: string,
    /** Envoy's transport failure reason, e.g. "delayed connect error: Connection refused". */
    readonly transportFailureReason: string,
  ) {
    super(`${resetReason}${transportFailureReason ? `, ${transportFailureReason}` : ""}`);
    this.name = "UpstreamConnectError";
  }
}

const strerror: Record<string, string> = {
  ECONNREFUSED: "Connection refused",
  EHOSTUNREACH: "No route to host",
  ENETUNREACH: "Network is unreachable",
  ETIMEDOUT: "Connection timed out",
  ECONNRESET: "Connection reset by peer",
  EADDRNOTAVAIL: "Cannot assign requested address",
};

/** Node's connect error → Envoy's reset reason and transport failure reason. */
export function connectFailure(err: NodeJS.ErrnoException): UpstreamConnectError {
  const text = strerror[err.code ?? ""] ?? err.message;
  return new UpstreamConnectError("remote connection failure", `delayed connect error: ${text}`);
}

class ClusterAgent extends http.Agent {
  constructor(private readonly cluster: Cluster) {
    // Envoy keeps upstream HTTP/1.1 connections open for reuse (idle_timeout 1 h by default).
    super({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, scheduling: "lifo" });
  }

  override createConnection(options: net.NetConnectOpts): net.Socket {
    const socket = net.createConnection(options);
    const opts = options as { host?: string; port?: number };
    this.cluster.trackConnection(socket, this.cluster.hosts.find((h) => h.address === opts.host && h.port === Number(opts.port)));
    return socket;
  }
}

export class Cluster {
  readonly name: string;
  readonly stats: ClusterStats;
  readonly agent: http.Agent;
  /** HTTP/2 sessions per host, for clusters configured with http2_protocol_options. */
  readonly http2: Http2Pool;
  hosts: UpstreamHost[] = [];
  private rrIndex = 0;
  private refreshTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly model: ClusterModel,
    stats: StatsStore,
    private readonly log: Logger,
    private readonly resolver: Resolver = systemResolver,
  ) {
    this.name = model.name;
    this.stats = clusterStats(stats, model.name);
    this.agent = new ClusterAgent(this);
    this.http2 = new Http2Pool(this);
  }

  /** Resolves the hosts (Envoy waits for every cluster to initialize before starting workers). */
  async initialize(): Promise<void> {
    if (this.model.type === "STATIC") {
      this.setHosts(this.model.endpoints.map((e) => this.host(e, e.address)));
      return;
    }
    await this.refreshDns();
    this.scheduleRefresh();
  }

  private host(e: EndpointModel, address: string): UpstreamHost {
    const stats: HostStats = { cx_active: 0, cx_connect_fail: 0, cx_total: 0, rq_active: 0, rq_error: 0, rq_success: 0, rq_timeout: 0, rq_total: 0 };
    return { cluster: this, address, port: e.port, hostname: e.hostname, metadata: e.metadata, locality: e.locality, stats };
  }

  private async refreshDns(): Promise<void> {
    this.stats.update_attempt.inc();
    const hosts: UpstreamHost[] = [];
    for (const e of this.model.endpoints) {
      const addresses = await this.resolver(e.address, this.model.dnsLookupFamily);
      if (!addresses.length) this.log.log("upstream", "debug", `DNS resolution for ${e.address} failed or returned no addresses`);
      // LOGICAL_DNS: one logical host using the first address; STRICT_DNS: a host per address.
      const used = this.model.type === "LOGICAL_DNS" ? addresses.slice(0, 1) : addresses;
      for (const a of used) hosts.push(this.host(e, a));
    }
    if (this.closed) return;
    this.stats.update_success.inc();
    const before = this.hosts.map((h) => `${h.address}:${h.port}`).join(",");
    if (this.model.type === "LOGICAL_DNS" && this.hosts.length === 1 && hosts.length === 1) {
      // The logical host keeps its identity; only the address it connects to changes.
      this.hosts[0]!.address = hosts[0]!.address;
      return;
    }
    if (hosts.map((h) => `${h.address}:${h.port}`).join(",") !== before) this.setHosts(hosts);
    else this.stats.update_no_rebuild.inc();
  }

  private scheduleRefresh(): void {
    if (this.closed) return;
    this.refreshTimer = setTimeout(() => {
      void this.refreshDns().finally(() => this.scheduleRefresh());
    }, this.model.dnsRefreshRateMs);
    this.refreshTimer.unref();
  }

  private setHosts(hosts: UpstreamHost[]): void {
    if (this.hosts.length) this.stats.membership_change.inc();
    this.hosts = hosts;
    this.stats.membership_total.set(BigInt(hosts.length));
    this.stats.membership_healthy.set(BigInt(hosts.length));
  }

  /**
   * Round robin. `avoid` holds hosts already attempted when the retry policy has the
   * previous_hosts predicate: up to `attempts` picks skip them, as Envoy's host selection retries.
   */
  chooseHost(avoid?: ReadonlySet<UpstreamHost>, attempts = 1): UpstreamHost | undefined {
    if (!this.hosts.length) return undefined;
    let host = this.next();
    for (let i = 1; avoid?.has(host) && i < Math.max(1, attempts); i++) host = this.next();
    return host;
  }

  private next(): UpstreamHost {
    const host = this.hosts[this.rrIndex % this.hosts.length]!;
    this.rrIndex = (this.rrIndex + 1) % this.hosts.length;
    return host;
  }

  /** Counts a new pool connection and bounds its connect by connect_timeout. */
  trackConnection(socket: net.Socket, host: UpstreamHost | undefined, protocol: "http1" | "http2" = "http1"): void {
    const started = process.hrtime.bigint();
    if (host) {
      host.stats.cx_total++;
      host.stats.cx_active++;
    }
    this.stats.upstream_cx_total.inc();
    this.stats[protocol === "http2" ? "upstream_cx_http2_total" : "upstream_cx_http1_total"].inc();
    this.stats.upstream_cx_active.add(1n);
    let connected = false;
    const timer = setTimeout(() => {
      this.stats.upstream_cx_connect_timeout.inc();
      socket.destroy(new UpstreamConnectError("connection timeout", ""));
    }, this.model.connectTimeoutMs);
    socket.once("connect", () => {
      connected = true;
      clearTimeout(timer);
      this.stats.connectMs.record(Number(process.hrtime.bigint() - started) / 1e6);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      this.stats.upstream_cx_active.sub(1n);
      if (host) host.stats.cx_active--;
      if (!connected) {
        this.stats.upstream_cx_connect_fail.inc();
        if (host) host.stats.cx_connect_fail++;
      }
      if (connected) {
        this.stats.upstream_cx_destroy.inc();
        this.stats.lengthMs.record(Number(process.hrtime.bigint() - started) / 1e6);
        this.stats.upstream_cx_rx_bytes_total.inc(BigInt(socket.bytesRead));
        this.stats.upstream_cx_tx_bytes_total.inc(BigInt(socket.bytesWritten));
      }
    });
  }

  close(): void {
    this.closed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.agent.destroy();
    this.http2.close();
  }
}

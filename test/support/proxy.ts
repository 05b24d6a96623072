// Starts the local proxy for tests from one of the project's Envoy configs, without changing the
// file: admin and listeners move to ephemeral 127.0.0.1 ports, cluster endpoints named in
// `upstreams` point at local stand-ins (a DNS name such as "httpbin" keeps its name and resolves
// to the stand-in, as docker --link does), module paths under compose.yaml's mount point into
// build/, and relative module paths are resolved against the repository root. Log lines are
// captured instead of written to stderr.
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { loadBootstrap, parseConfigText } from "../../host/config/bootstrap.js";
import type { LogLevel } from "../../host/envoy/server-context.js";
import type { Resolver } from "../../host/proxy/cluster.js";
import { EnvoyLogger } from "../../host/proxy/logger.js";
import { ProxyServer } from "../../host/proxy/server.js";
import type { WasmHostOptions } from "../../host/wasm/plugin.js";
import { parseStats } from "../scenarios/target.js";
import { buildDir, projectRoot } from "./modules.js";

const composeModuleDir = "/etc/proxy-wasm-as/build";

export interface StartProxyOptions {
  /** A YAML/JSON bootstrap file (e.g. test/proxy/configs/simple.yaml or envoy/envoy.yaml). */
  configFile?: string;
  /** Or the bootstrap itself. */
  config?: Record<string, unknown>;
  /** Endpoint address in the config ("httpbin") → where it runs here. */
  upstreams?: Record<string, { address: string; port: number }>;
  concurrency?: number;
  logLevel?: LogLevel;
  /** Further edits of the bootstrap JSON after the rewrites above. */
  edit?(bootstrap: Record<string, unknown>): void;
  wasm?: WasmHostOptions;
}

export interface StartedProxy {
  server: ProxyServer;
  /** http://127.0.0.1:<port> of a listener (the first one by default). */
  url(listener?: string): string;
  adminUrl: string;
  /** Counters and gauges of GET /stats. */
  stats(): Promise<Map<string, number>>;
  logs: string[];
  stop(): Promise<void>;
}

type Json = Record<string, unknown>;

function visit(node: unknown, key: string, f: (obj: Json) => void): void {
  if (Array.isArray(node)) node.forEach((n) => visit(n, key, f));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node as Json)) {
      if (k === key && v && typeof v === "object") f(v as Json);
      visit(v, key, f);
    }
  }
}

/** The rewrites described in the file comment; returns the DNS overrides for renamed upstreams. */
export function localizeBootstrap(bootstrap: Json, upstreams: StartProxyOptions["upstreams"] = {}): Map<string, string> {
  const dns = new Map<string, string>();
  const admin = (bootstrap.admin as Json | undefined)?.address as Json | undefined;
  if (admin?.socket_address) Object.assign(admin.socket_address as Json, { address: "127.0.0.1", port_value: 0 });
  const sr = (bootstrap.static_resources as Json | undefined) ?? {};
  for (const l of (sr.listeners as Json[] | undefined) ?? []) {
    const sa = (l.address as Json | undefined)?.socket_address as Json | undefined;
    if (sa) Object.assign(sa, { address: "127.0.0.1", port_value: 0 });
  }
  for (const c of (sr.clusters as Json[] | undefined) ?? []) {
    const dnsCluster = c.type === "STRICT_DNS" || c.type === "LOGICAL_DNS";
    visit(c, "socket_address", (sa) => {
      const local = upstreams[String(sa.address)];
      if (!local) return;
      if (dnsCluster) dns.set(String(sa.address), local.address);
      else sa.address = local.address;
      sa.port_value = local.port;
    });
  }
  visit(bootstrap, "local", (local) => {
    if (typeof local.filename === "string" && local.filename.startsWith(`${composeModuleDir}/`)) {
      local.filename = join(buildDir, local.filename.slice(composeModuleDir.length + 1));
    } else if (typeof local.filename === "string" && !isAbsolute(local.filename)) {
      // Envoy reads a relative filename against its working directory; the configs in envoy/ are
      // written for the repository root (docs/deploy.md), wherever the test runs from.
      local.filename = join(projectRoot, local.filename);
    }
  });
  return dns;
}

export async function startProxy(opts: StartProxyOptions): Promise<StartedProxy> {
  let json: Json;
  if (opts.config) json = structuredClone(opts.config);
  else if (opts.configFile) json = parseConfigText(readFileSync(opts.configFile, "utf8"), opts.configFile, opts.configFile.endsWith(".json") ? "json" : "yaml") as Json;
  else throw new Error("startProxy needs configFile or config");
  const dns = localizeBootstrap(json, opts.upstreams);
  opts.edit?.(json);
  const resolver: Resolver = async (name) => (dns.has(name) ? [dns.get(name)!] : name === "localhost" ? ["127.0.0.1"] : []);
  const bootstrap = loadBootstrap({ config: { json, source: opts.configFile ?? "<test bootstrap>" } });
  const logs: string[] = [];
  const log = new EnvoyLogger(opts.logLevel ?? "info", (line) => void logs.push(line));
  const server = await ProxyServer.start({ bootstrap, concurrency: opts.concurrency ?? 1, log, resolver, wasm: opts.wasm });
  const admin = server.adminAddress();
  const adminUrl = admin ? `http://127.0.0.1:${admin.port}` : "";
  return {
    server,
    url: (listener) => `http://127.0.0.1:${server.listenerAddress(listener ?? server.listeners[0]!.model.name).port}`,
    adminUrl,
    stats: async () => parseStats(await (await fetch(`${adminUrl}/stats`)).text()),
    logs,
    stop: () => server.stop(),
  };
}

/**
 * A bootstrap for tests and benchmarks: admin and one listener "test" (stat prefix "test") on
 * ephemeral loopback ports, one route table, and a STATIC cluster "upstream" to 127.0.0.1:`port`.
 */
export interface BootstrapOptions {
  hcm?: Record<string, unknown>;
  /** HTTP filters before the router. */
  filters?: unknown[];
  vhost?: Record<string, unknown>;
  route?: Record<string, unknown>;
  routes?: unknown[];
  cluster?: Record<string, unknown>;
  admin?: boolean;
}

export function bootstrap(port: number, opts: BootstrapOptions = {}): Record<string, unknown> {
  return {
    ...(opts.admin === false ? {} : { admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } } }),
    static_resources: {
      listeners: [
        {
          name: "test",
          address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "test",
                    http_filters: [...(opts.filters ?? []), { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
                    route_config: {
                      name: "local",
                      virtual_hosts: [
                        {
                          name: "vh",
                          domains: ["*"],
                          routes: opts.routes ?? [{ match: { prefix: "/" }, route: { cluster: "upstream", ...opts.route } }],
                          ...opts.vhost,
                        },
                      ],
                    },
                    ...opts.hcm,
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: "upstream",
          connect_timeout: "1s",
          type: "STATIC",
          load_assignment: {
            cluster_name: "upstream",
            endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }],
          },
          ...opts.cluster,
        },
      ],
    },
  };
}

// The admin API's views of the running proxy in Envoy's shapes: /clusters (text and json),
// /config_dump (Bootstrap, Clusters, Listeners, Routes, Secrets dumps of the static config) and
// /server_info.
import type { LoadedBootstrap } from "../config/bootstrap.js";
import type { JsonObject } from "../config/proto-json.js";
import type { NodeInfo } from "../envoy/server-context.js";
import type { ProxyClusterManager } from "./cluster-manager.js";

/** The Envoy release whose behaviour and API the local proxy follows, for /server_info. */
export const emulatedEnvoyVersion = "1.35.0";

const thresholds = (priority: string, name: string): string[] =>
  ["max_connections::1024", "max_pending_requests::1024", "max_requests::1024", "max_retries::3"].map((t) => `${name}::${priority}::${t}`);

/** GET /clusters: Envoy's "name::key::value" lines, circuit breaker defaults and per-host stats. */
export function clustersText(cm: ProxyClusterManager): string {
  const lines: string[] = [];
  for (const { cluster } of cm.all()) {
    const n = cluster.name;
    lines.push(`${n}::observability_name::${n}`, ...thresholds("default_priority", n), ...thresholds("high_priority", n), `${n}::added_via_api::false`);
    for (const h of cluster.hosts) {
      const p = `${n}::${h.address}:${h.port}`;
      for (const [k, v] of Object.entries(h.stats)) lines.push(`${p}::${k}::${v}`);
      lines.push(
        `${p}::hostname::${h.hostname}`,
        `${p}::health_flags::healthy`,
        `${p}::weight::1`,
        `${p}::region::${h.locality?.region ?? ""}`,
        `${p}::zone::${h.locality?.zone ?? ""}`,
        `${p}::sub_zone::${h.locality?.sub_zone ?? ""}`,
        `${p}::canary::false`,
        `${p}::priority::0`,
        `${p}::success_rate::-1.0`,
        `${p}::local_origin_success_rate::-1.0`,
      );
    }
  }
  return lines.map((l) => `${l}\n`).join("");
}

/** GET /clusters?format=json (envoy.admin.v3.Clusters). */
export function clustersJson(cm: ProxyClusterManager): unknown {
  const threshold = (priority: string) => ({ priority, max_connections: 1024, max_pending_requests: 1024, max_requests: 1024, max_retries: 3 });
  return {
    cluster_statuses: cm.all().map(({ cluster }) => ({
      name: cluster.name,
      observability_name: cluster.name,
      circuit_breakers: { thresholds: [threshold("DEFAULT"), threshold("HIGH")] },
      host_statuses: cluster.hosts.map((h) => ({
        address: { socket_address: { address: h.address, port_value: h.port } },
        stats: Object.entries(h.stats).map(([name, value]) => ({ name, type: name.endsWith("_active") ? "GAUGE" : "COUNTER", value: String(value) })),
        health_status: { eds_health_status: "HEALTHY" },
        weight: 1,
        hostname: h.hostname,
        locality: h.locality ?? {},
      })),
    })),
  };
}

const typeUrl = (name: string): string => `type.googleapis.com/${name}`;

/** GET /config_dump (envoy.admin.v3.ConfigDump) of the static bootstrap. */
export function configDump(bootstrap: LoadedBootstrap, startedAt: number): unknown {
  const json = bootstrap.json;
  const lastUpdated = new Date(startedAt).toISOString();
  const sr = (json.static_resources as JsonObject | undefined) ?? {};
  const listeners = (sr.listeners as JsonObject[] | undefined) ?? [];
  const clusters = (sr.clusters as JsonObject[] | undefined) ?? [];
  const routeConfigs = listeners.flatMap((l) =>
    ((l.filter_chains as JsonObject[] | undefined) ?? []).flatMap((fc) =>
      ((fc.filters as JsonObject[] | undefined) ?? []).map((f) => (f.typed_config as JsonObject | undefined)?.route_config as JsonObject | undefined).filter((r) => r),
    ),
  );
  return {
    configs: [
      {
        "@type": typeUrl("envoy.admin.v3.BootstrapConfigDump"),
        bootstrap: { ...json, node: { ...((json.node as JsonObject | undefined) ?? {}), user_agent_name: "envoy", user_agent_build_version: { version: { major_number: 1, minor_number: 35 } } } },
        last_updated: lastUpdated,
      },
      {
        "@type": typeUrl("envoy.admin.v3.ClustersConfigDump"),
        static_clusters: clusters.map((c) => ({ cluster: { "@type": typeUrl("envoy.config.cluster.v3.Cluster"), ...c }, last_updated: lastUpdated })),
      },
      {
        "@type": typeUrl("envoy.admin.v3.ListenersConfigDump"),
        static_listeners: listeners.map((l) => ({ listener: { "@type": typeUrl("envoy.config.listener.v3.Listener"), ...l }, last_updated: lastUpdated })),
      },
      { "@type": typeUrl("envoy.admin.v3.ScopedRoutesConfigDump") },
      {
        "@type": typeUrl("envoy.admin.v3.RoutesConfigDump"),
        static_route_configs: routeConfigs.map((r) => ({ route_config: { "@type": typeUrl("envoy.config.route.v3.RouteConfiguration"), ...r }, last_updated: lastUpdated })),
      },
      { "@type": typeUrl("envoy.admin.v3.SecretsConfigDump") },
    ],
  };
}

function duration(ms: number): string {
  return `${Math.floor(ms / 1000)}s`;
}

/** GET /server_info (envoy.admin.v3.ServerInfo). */
export function serverInfo(state: string, startedAt: number, node: NodeInfo, commandLine: Record<string, unknown>): unknown {
  const up = duration(Date.now() - startedAt);
  return {
    version: `proxy-wasm-as local proxy (Envoy ${emulatedEnvoyVersion} behaviour)/Clean/RELEASE/nodejs-${process.versions.node}`,
    state,
    hot_restart_version: "disabled",
    command_line_options: commandLine,
    node: { id: node.id, cluster: node.cluster, metadata: node.metadata, user_agent_name: "envoy" },
    uptime_current_epoch: up,
    uptime_all_epochs: up,
  };
}

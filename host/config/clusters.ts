// Cluster → ClusterModel with Envoy's defaults and the load-time checks of its cluster factories
// (STATIC needs IP addresses, LOGICAL_DNS exactly one endpoint, unique names).
import { isIP } from "node:net";
import { ConfigError, joinPath } from "./errors.js";
import type { ClusterModel, EndpointModel } from "./model.js";
import type { JsonObject } from "./proto-json.js";
import { arr, durationMs, num, obj, str } from "./read.js";

/** Cluster.per_connection_buffer_limit_bytes default (1 MiB). */
export const DEFAULT_BUFFER_LIMIT_BYTES = 1024 * 1024;

export function buildClusters(clusters: JsonObject[], path: string): ClusterModel[] {
  const seen = new Set<string>();
  return clusters.map((c, i) => {
    const cpath = joinPath(path, i);
    const model = buildCluster(c, cpath);
    if (seen.has(model.name)) throw new ConfigError(`${cpath}.name: cluster manager: duplicate cluster '${model.name}'`, `${cpath}.name`);
    seen.add(model.name);
    return model;
  });
}

function buildCluster(c: JsonObject, path: string): ClusterModel {
  const type = str(c, "type", "STATIC") as ClusterModel["type"];
  const dns = type !== "STATIC";
  const endpoints: EndpointModel[] = [];
  const la = obj(c, "load_assignment") ?? {};
  arr(la, "endpoints").forEach((locality, i) => {
    arr(locality, "lb_endpoints").forEach((lb, j) => {
      const epath = joinPath(joinPath(joinPath(joinPath(path, "load_assignment.endpoints"), i), "lb_endpoints"), j);
      const endpoint = obj(lb, "endpoint") ?? {};
      const sa = obj(obj(endpoint, "address") ?? {}, "socket_address");
      if (!sa) throw new ConfigError(`${epath}.endpoint.address: a socket_address is required`, `${epath}.endpoint.address`);
      const address = str(sa, "address");
      if (!dns && !isIP(address)) {
        throw new ConfigError(`${epath}.endpoint.address.socket_address.address: malformed IP address: ${address} (a STATIC cluster needs IP addresses; use STRICT_DNS or LOGICAL_DNS for names)`);
      }
      endpoints.push({
        address,
        port: num(sa, "port_value"),
        // Envoy: a DNS cluster's host is named by the DNS name it resolves; a static host only by
        // Endpoint.hostname. This is what auto_host_rewrite writes into :authority.
        hostname: str(endpoint, "hostname") || (dns ? address : ""),
        metadata: obj(lb, "metadata"),
        locality: obj(locality, "locality") as EndpointModel["locality"],
      });
    });
  });
  if (type === "LOGICAL_DNS" && endpoints.length !== 1) {
    throw new ConfigError(`${path}.load_assignment: LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint`, `${path}.load_assignment`);
  }
  return {
    name: str(c, "name"),
    type,
    connectTimeoutMs: durationMs(c, "connect_timeout", 5000),
    dnsLookupFamily: str(c, "dns_lookup_family", "AUTO") as ClusterModel["dnsLookupFamily"],
    dnsRefreshRateMs: durationMs(c, "dns_refresh_rate", 5000),
    endpoints,
    metadata: obj(c, "metadata"),
    bufferLimitBytes: num(c, "per_connection_buffer_limit_bytes", DEFAULT_BUFFER_LIMIT_BYTES),
    http2: usesHttp2(c),
  };
}

/** http2_protocol_options (deprecated) or HttpProtocolOptions.explicit_http_config.http2_protocol_options. */
function usesHttp2(c: JsonObject): boolean {
  if (c.http2_protocol_options !== undefined) return true;
  const opts = obj(obj(c, "typed_extension_protocol_options") ?? {}, "envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
  return obj(obj(opts ?? {}, "explicit_http_config") ?? {}, "http2_protocol_options") !== undefined;
}

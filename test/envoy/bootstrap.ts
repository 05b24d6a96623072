// Makes a config from envoy/ runnable by a local envoy binary next to other tests: admin and every
// listener move to free 127.0.0.1 ports, cluster endpoints at a given address (httpbin's
// 127.0.0.1:8000) point at the local stand-in, and relative module paths (build/<name>.wasm,
// which Envoy reads against its working directory) become absolute under the repository root.
import { isAbsolute, join } from "node:path";

export interface LocalRunOptions {
  adminPort: number;
  /** Listener name → port. */
  listenerPorts: Record<string, number>;
  /** Endpoint address in the config ("127.0.0.1") → where the stand-in runs. */
  endpoints: Record<string, { address: string; port: number }>;
  /** What relative module paths are relative to: the repository root. */
  root: string;
}

interface SocketAddress {
  address?: string;
  port_value?: number;
}

type Json = Record<string, unknown>;

function walk(node: unknown, visit: (obj: Json, key: string) => void): void {
  if (Array.isArray(node)) node.forEach((n) => walk(n, visit));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node as Json)) {
      visit(node as Json, k);
      walk(v, visit);
    }
  }
}

export function rewriteForLocalRun(bootstrap: Json, opts: LocalRunOptions): Json {
  const config = structuredClone(bootstrap);
  const admin = (config.admin as { address?: { socket_address?: SocketAddress } } | undefined)?.address?.socket_address;
  if (!admin) throw new Error("config has no admin.address.socket_address: the runner needs the admin API");
  Object.assign(admin, { address: "127.0.0.1", port_value: opts.adminPort });
  const resources = (config.static_resources ?? {}) as { listeners?: Json[]; clusters?: Json[] };
  for (const listener of resources.listeners ?? []) {
    const name = String(listener.name);
    const port = opts.listenerPorts[name];
    if (port === undefined) throw new Error(`no local port given for listener "${name}"`);
    const sa = (listener.address as { socket_address?: SocketAddress }).socket_address!;
    Object.assign(sa, { address: "127.0.0.1", port_value: port });
  }
  walk(resources.clusters ?? [], (obj, key) => {
    if (key !== "socket_address") return;
    const sa = obj[key] as SocketAddress;
    const local = sa.address !== undefined ? opts.endpoints[sa.address] : undefined;
    if (local) Object.assign(sa, { address: local.address, port_value: local.port });
  });
  walk(config, (obj, key) => {
    if (key !== "local" || typeof (obj[key] as Json)?.filename !== "string") return;
    const local = obj[key] as { filename: string };
    if (!isAbsolute(local.filename)) local.filename = join(opts.root, local.filename);
  });
  return config;
}

export function listenerNames(bootstrap: Json): string[] {
  return (((bootstrap.static_resources ?? {}) as { listeners?: Json[] }).listeners ?? []).map((l) => String(l.name));
}

// Envoy's admin API (source/server/admin/) for what the project's scenarios and users poke:
// /stats (text, json, ?filter= ?usedonly ?type=), /stats/prometheus, /ready, /server_info,
// /listeners, /clusters, /config_dump, /certs, /memory, /runtime, POST /logging and
// POST /quitquitquit. Mutating endpoints require POST, as in Envoy.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { renderPrometheus, renderStatsJson, renderStatsText, type StatsQuery } from "../stats/render.js";
import type { TagProducer } from "../stats/tag-extractor.js";
import type { StatsStore } from "../envoy/server-context.js";
import type { LogLevel } from "../envoy/server-context.js";
import { logLevels } from "../envoy/server-context.js";
import type { EnvoyLogger } from "./logger.js";
import { parseLogLevel } from "./logger.js";
import { hcmStats, codeClass, type HcmStats } from "./stat-names.js";

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string;
}

/** What the admin handlers read from the running server. */
export interface AdminSource {
  stats: StatsStore;
  tags: TagProducer;
  log: EnvoyLogger;
  /** Refreshes server.* gauges before stats are rendered. */
  refreshServerStats(): void;
  listeners(): Array<{ name: string; address: string; port: number }>;
  clustersText(): string;
  clustersJson(): unknown;
  configDump(): unknown;
  serverInfo(): unknown;
  state(): "LIVE" | "DRAINING" | "PRE_INITIALIZING" | "INITIALIZING";
  quit(): void;
}

interface Handler {
  help: string;
  mutates: boolean;
  run(query: URLSearchParams, method: string): AdminResponse;
}

const text = (body: string, status = 200): AdminResponse => ({ status, contentType: "text/plain; charset=UTF-8", body });
const json = (value: unknown, status = 200): AdminResponse => ({ status, contentType: "application/json", body: `${JSON.stringify(value, null, 1)}\n` });

function statsQuery(q: URLSearchParams): StatsQuery | AdminResponse {
  const out: StatsQuery = { usedOnly: q.has("usedonly"), type: q.get("type") ?? undefined };
  const filter = q.get("filter");
  if (filter) {
    try {
      out.filter = new RegExp(filter);
    } catch (e) {
      return text(`Invalid re2 regex: ${(e as Error).message}\n`, 400);
    }
  }
  return out;
}

export class Admin {
  private readonly handlers = new Map<string, Handler>();
  private server: http.Server | undefined;
  private readonly stats: HcmStats;

  constructor(private readonly src: AdminSource) {
    this.stats = hcmStats(src.stats, "admin");
    const add = (path: string, help: string, run: Handler["run"], mutates = false): void => {
      this.handlers.set(path, { help, mutates, run });
    };
    add("/stats", "print server stats", (q) => {
      const query = statsQuery(q);
      if ("status" in query) return query;
      src.refreshServerStats();
      if (q.get("format") === "json") return json(JSON.parse(renderStatsJson(src.stats, query)));
      if (q.get("format") === "prometheus") return text(renderPrometheus(src.stats, src.tags, query));
      return text(renderStatsText(src.stats, query));
    });
    add("/stats/prometheus", "print server stats in prometheus format", (q) => {
      const query = statsQuery(q);
      if ("status" in query) return query;
      src.refreshServerStats();
      return text(renderPrometheus(src.stats, src.tags, query));
    });
    add("/ready", "print server state, return 200 if LIVE, otherwise return 503", () => {
      const state = src.state();
      return text(`${state}\n`, state === "LIVE" ? 200 : 503);
    });
    add("/server_info", "print server version/status information", () => json(src.serverInfo()));
    add("/listeners", "print listener info", (q) => {
      const ls = src.listeners();
      if (q.get("format") === "json") {
        return json({ listener_statuses: ls.map((l) => ({ name: l.name, local_address: { socket_address: { address: l.address, port_value: l.port } } })) });
      }
      return text(ls.map((l) => `${l.name}::${l.address}:${l.port}\n`).join(""));
    });
    add("/clusters", "upstream cluster status", (q) => (q.get("format") === "json" ? json(src.clustersJson()) : text(src.clustersText())));
    add("/config_dump", "dump current Envoy configs (experimental)", () => json(src.configDump()));
    add("/certs", "print certs on machine", () => json({ certificates: [] }));
    add("/memory", "print current allocation/heap usage", () => {
      const m = process.memoryUsage();
      return json({
        allocated: String(m.heapUsed),
        heap_size: String(m.heapTotal),
        pageheap_unmapped: "0",
        pageheap_free: "0",
        total_thread_cache: "0",
        total_physical_bytes: String(m.rss),
      });
    });
    add("/runtime", "print runtime values", () => json({ layers: [], entries: {} }));
    add("/logging", "query/change logging levels", (q) => this.logging(q), true);
    add(
      "/quitquitquit",
      "exit the server",
      () => {
        src.log.log("main", "info", "shutting down server instance");
        setImmediate(() => src.quit());
        return text("OK\n");
      },
      true,
    );
    add("/help", "print out list of admin commands", () => text(this.helpText()));
  }

  private helpText(): string {
    return `admin commands are:\n${[...this.handlers].map(([p, h]) => `  ${p}: ${h.help}\n`).join("")}`;
  }

  private loggersText(): string {
    return `active loggers:\n${this.src.log.names().map((n) => `  ${n}: ${this.src.log.level(n)}\n`).join("")}`;
  }

  /** Envoy LogsHandler: ?level=, ?<logger>=<level>, ?paths=a:l,b:l; no query lists the loggers. */
  private logging(q: URLSearchParams): AdminResponse {
    const log = this.src.log;
    const entries = [...q.entries()];
    const usage = (): AdminResponse =>
      text(
        "usage: /logging?<name>=<level> (change single level)\n" +
          "usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n" +
          "usage: /logging?level=<level> (change all levels)\n" +
          `levels: ${logLevels.join(" ")}\n` +
          this.loggersText(),
        404,
      );
    if (entries.length > 1) return usage();
    if (entries.length === 1) {
      const [key, value] = entries[0]!;
      const changes: Array<[string | undefined, LogLevel]> = [];
      if (key === "paths") {
        for (const pair of value.split(",")) {
          const [name, lvl] = pair.split(":");
          const level = parseLogLevel(lvl ?? "");
          if (!name || !level || !log.has(name)) return usage();
          changes.push([name, level]);
        }
      } else {
        const level = parseLogLevel(value);
        if (!level || (key !== "level" && !log.has(key))) return usage();
        changes.push([key === "level" ? undefined : key, level]);
      }
      for (const [name, level] of changes) {
        if (name === undefined) log.setAll(level);
        else log.setLevel(name, level);
      }
    }
    return text(this.loggersText());
  }

  /** Envoy's admin handler dispatch: exact path, POST for mutating endpoints, 404 with help. */
  handle(method: string, rawUrl: string): AdminResponse {
    const url = new URL(rawUrl, "http://admin");
    const handler = this.handlers.get(url.pathname);
    if (!handler) return text(`invalid path. ${this.helpText()}`, 404);
    if (handler.mutates && method !== "POST") {
      this.src.log.log("admin", "error", `admin path "${url.pathname}" mutates state, method=${method} rather than POST`);
      return text(`Method ${method} not allowed, POST required.`, 405);
    }
    return handler.run(url.searchParams, method);
  }

  async listen(address: string, port: number): Promise<AddressInfo> {
    const server = http.createServer((req, res) => {
      this.stats.downstream_rq_total.inc();
      req.resume();
      let r: AdminResponse;
      try {
        r = this.handle(req.method ?? "GET", req.url ?? "/");
      } catch (e) {
        r = text(`${(e as Error).message}\n`, 500);
      }
      const cls = codeClass(r.status);
      this.stats.downstream_rq_completed.inc();
      if (cls) this.stats[`downstream_rq_${cls}`].inc();
      res.writeHead(r.status, {
        "content-type": r.contentType,
        "cache-control": "no-cache, max-age=0",
        "x-content-type-options": "nosniff",
        "content-length": Buffer.byteLength(r.body),
        server: "envoy",
      });
      res.end(req.method === "HEAD" ? undefined : r.body);
    });
    server.on("connection", (socket) => {
      this.stats.downstream_cx_total.inc();
      this.stats.downstream_cx_active.add(1n);
      socket.once("close", () => this.stats.downstream_cx_active.sub(1n));
    });
    this.server = server;
    return listenOn(server, address, port, "admin");
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const s = this.server;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }
}

/** Binds a server; Envoy's wording when the address is taken. */
export function listenOn(server: http.Server, address: string, port: number, what: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const reason = e.code === "EADDRINUSE" ? "Address already in use" : e.code === "EACCES" ? "Permission denied" : e.message;
      reject(new Error(`${what}: cannot bind '${address}:${port}': ${reason}`));
    };
    server.once("error", onError);
    server.listen(port, address, () => {
      server.off("error", onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

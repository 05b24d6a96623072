// The local proxy: what `proxy-wasm run -c FILE` (and tests) start in place of `envoy -c FILE`.
// Startup follows Envoy's order and log lines: stats, clusters (DNS resolved: "all clusters
// initialized"), Wasm plugins (a load or on_configure failure aborts startup), admin, listeners
// ("starting workers", "starting main dispatch loop"). stop() drains in reverse.
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { LoadedBootstrap } from "../config/bootstrap.js";
import type { HttpFilterModel } from "../config/model.js";
import type { ServerContext } from "../envoy/server-context.js";
import type { FilterFactory } from "../http/filter.js";
import { MemoryStatsStore } from "../stats/store.js";
import { TagProducer } from "../stats/tag-extractor.js";
import { createWasmPlugin, type WasmHostOptions, type WasmPlugin } from "../wasm/plugin.js";
import { Admin } from "./admin.js";
import { clustersJson, clustersText, configDump, serverInfo } from "./admin-views.js";
import type { Resolver } from "./cluster.js";
import { ProxyClusterManager } from "./cluster-manager.js";
import { NodeDispatcher } from "./dispatcher.js";
import { Listener } from "./listener.js";
import { EnvoyLogger } from "./logger.js";
import { Scope } from "./stat-names.js";

export interface ProxyOptions {
  bootstrap: LoadedBootstrap;
  /** Worker count (Envoy --concurrency): one VM per worker for every Wasm plugin. */
  concurrency: number;
  log?: EnvoyLogger;
  /** DNS for STRICT_DNS / LOGICAL_DNS clusters (tests map names like "httpbin" to loopback). */
  resolver?: Resolver;
  wasm?: WasmHostOptions;
  /** POST /quitquitquit: what the embedding program does to exit (default: stop()). */
  onQuit?: () => void;
  /** For /server_info: the command line options as given. */
  commandLine?: Record<string, unknown>;
}

/** A startup failure with Envoy's message; the CLI prints it and exits non-zero. */
export class ProxyStartError extends Error {
  override name = "ProxyStartError";
}

export class ProxyServer {
  readonly stats: MemoryStatsStore;
  readonly tags: TagProducer;
  readonly log: EnvoyLogger;
  readonly dispatcher = new NodeDispatcher();
  readonly clusters: ProxyClusterManager;
  readonly context: ServerContext;
  readonly listeners: Listener[] = [];
  private readonly plugins: WasmPlugin[] = [];
  private admin: Admin | undefined;
  private adminBound: AddressInfo | undefined;
  private readonly startedAt = Date.now();
  private state: "INITIALIZING" | "LIVE" | "DRAINING" = "INITIALIZING";
  private stopping: Promise<void> | undefined;

  private constructor(readonly options: ProxyOptions) {
    const model = options.bootstrap.model;
    this.log = options.log ?? new EnvoyLogger();
    this.stats = new MemoryStatsStore({ histogramBuckets: model.stats.histogramBuckets });
    this.tags = new TagProducer(model.stats.tags, model.stats.useAllDefaultTags);
    this.clusters = new ProxyClusterManager(model.clusters, this.stats, this.log, this.dispatcher, options.resolver);
    this.context = { node: model.node, stats: this.stats, log: this.log, dispatcher: this.dispatcher, clusters: this.clusters };
  }

  /** Starts everything, or undoes what started and throws ProxyStartError. */
  static async start(options: ProxyOptions): Promise<ProxyServer> {
    const server = new ProxyServer(options);
    try {
      await server.init();
    } catch (e) {
      await server.teardown();
      throw e instanceof ProxyStartError ? e : new ProxyStartError((e as Error).message);
    }
    return server;
  }

  private async init(): Promise<void> {
    const { model } = this.options.bootstrap;
    const log = this.log;
    const concurrency = this.options.concurrency;
    log.log("main", "info", `initializing epoch 0 (base id=0, hot restart version=disabled)`);
    log.log("main", "info", `node id: ${model.node.id}, cluster: ${model.node.cluster}, concurrency: ${concurrency}`);
    this.initServerStats();

    log.log("config", "info", `loading ${model.clusters.length} cluster(s)`);
    await this.clusters.initialize();
    log.log("upstream", "info", "cm init: all clusters initialized");

    log.log("config", "info", `loading ${model.listeners.length} listener(s)`);
    for (const lm of model.listeners) {
      const wasm = await this.createPlugins(lm.hcm.httpFilters);
      const perWorker = new Map<number, FilterFactory[]>();
      const listener = new Listener(lm, concurrency, this.stats, {
        log,
        dispatcher: this.dispatcher,
        clusters: this.clusters,
        filterFactories: (worker) => {
          let list = perWorker.get(worker);
          if (!list) perWorker.set(worker, (list = wasm.map((p) => p.filterFactory(worker))));
          return list;
        },
      });
      this.listeners.push(listener);
      new Scope(this.stats, "listener_manager.").counter("listener_added").inc();
    }

    if (model.admin) {
      this.admin = new Admin({
        stats: this.stats,
        tags: this.tags,
        log,
        refreshServerStats: () => this.refreshServerStats(),
        listeners: () => this.listeners.map((l) => ({ name: l.model.name, address: l.model.address.address, port: l.bound?.port ?? l.model.address.port })),
        clustersText: () => clustersText(this.clusters),
        clustersJson: () => clustersJson(this.clusters),
        configDump: () => configDump(this.options.bootstrap, this.startedAt),
        serverInfo: () => serverInfo(this.state, this.startedAt, model.node, this.options.commandLine ?? {}),
        state: () => this.state,
        quit: () => (this.options.onQuit ? this.options.onQuit() : void this.stop()),
      });
      this.adminBound = await this.admin.listen(model.admin.address.address, model.admin.address.port);
      log.log("main", "info", `admin address: ${this.adminBound.address}:${this.adminBound.port}`);
    }

    log.log("main", "info", "all dependencies initialized. starting workers");
    for (const l of this.listeners) {
      const bound = await l.listen();
      log.log("config", "info", `listener '${l.model.name}' listening on ${bound.address}:${bound.port}`);
    }
    const lm = new Scope(this.stats, "listener_manager.");
    lm.counter("listener_create_success").inc(BigInt(this.listeners.length * concurrency));
    lm.gauge("total_listeners_active").set(BigInt(this.listeners.length));
    lm.gauge("workers_started").set(1n);
    this.state = "LIVE";
    this.stats.gauge("server.state").set(0n);
    this.stats.histogram("server.initialization_time_ms", "milliseconds").record(Date.now() - this.startedAt);
    log.log("main", "info", "starting main dispatch loop");
  }

  private async createPlugins(filters: HttpFilterModel[]): Promise<WasmPlugin[]> {
    const plugins: WasmPlugin[] = [];
    for (const f of filters) {
      if (f.kind !== "wasm") continue;
      const p = f.plugin;
      let code: Uint8Array;
      if ("bytes" in p.code) code = p.code.bytes;
      else {
        try {
          code = readFileSync(p.code.filename);
        } catch (e) {
          throw new ProxyStartError(`${p.path}.vm_config.code.local.filename: cannot read Wasm module ${JSON.stringify(p.code.filename)}: ${(e as Error).message}`);
        }
      }
      try {
        const plugin = await createWasmPlugin(
          {
            name: p.name,
            rootId: p.rootId,
            vmId: p.vmId,
            code,
            configuration: p.configuration,
            vmConfiguration: p.vmConfiguration,
            environment: p.environment,
            failurePolicy: p.failurePolicy,
            allowOnHeadersStopIteration: p.allowOnHeadersStopIteration,
            concurrency: this.options.concurrency,
            codeSource: "filename" in p.code ? p.code.filename : undefined,
          },
          this.context,
          this.options.wasm,
        );
        this.plugins.push(plugin);
        plugins.push(plugin);
      } catch (e) {
        // Envoy: a plugin that fails to load or configure fails the listener, so startup fails.
        throw new ProxyStartError(`${f.path} (${f.name}): Unable to create Wasm HTTP filter ${p.name}: ${(e as Error).message}`);
      }
    }
    return plugins;
  }

  private initServerStats(): void {
    const s = new Scope(this.stats, "server.");
    s.gauge("concurrency").set(BigInt(this.options.concurrency));
    s.gauge("live").set(1n);
    s.gauge("state").set(2n); // INITIALIZING (Envoy server.state: 0 LIVE, 1 DRAINING, 2 PRE_INITIALIZING, 3 INITIALIZING)
    s.gauge("hot_restart_epoch").set(0n);
    s.gauge("days_until_first_cert_expiring").set(2147483647n);
    this.refreshServerStats();
  }

  /** server.* gauges that change with time (uptime, memory). */
  refreshServerStats(): void {
    const s = new Scope(this.stats, "server.");
    const m = process.memoryUsage();
    s.gauge("uptime").set(BigInt(Math.floor((Date.now() - this.startedAt) / 1000)));
    s.gauge("memory_allocated").set(BigInt(m.heapUsed));
    s.gauge("memory_heap_size").set(BigInt(m.heapTotal));
    s.gauge("memory_physical_size").set(BigInt(m.rss));
    s.gauge("total_connections").set(this.listeners.reduce((n, l) => n + l.cm.stats.downstream_cx_active.value, 0n));
  }

  adminAddress(): AddressInfo | undefined {
    return this.adminBound;
  }

  listenerAddress(name: string): AddressInfo {
    const l = this.listeners.find((x) => x.model.name === name);
    if (!l?.bound) throw new Error(`no bound listener named ${JSON.stringify(name)}`);
    return l.bound;
  }

  /** Graceful shutdown: listeners, admin, Wasm plugins (proxy_on_done...), clusters. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log.log("main", "info", "shutting down server instance");
      await this.teardown();
      this.log.log("main", "info", "main dispatch loop exited");
      this.log.log("main", "info", "exiting");
    })();
    return this.stopping;
  }

  private async teardown(): Promise<void> {
    this.state = "DRAINING";
    await Promise.all(this.listeners.map((l) => l.close()));
    await this.admin?.close();
    for (const p of this.plugins) {
      try {
        await p.shutdown();
      } catch (e) {
        this.log.log("wasm", "error", `plugin shutdown failed: ${(e as Error).message}`);
      }
    }
    this.clusters.close();
  }
}

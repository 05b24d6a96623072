// The plugin: configuration at on_configure, one report per stream at on_log.
import {
  Gauge, HttpContext, RootContext, decodeNode, getPluginConfigurationString, getPluginRootId, getProperty,
  logError,
} from "proxy-wasm-as";
import { parseConfig } from "./config";
import { ExpressionContext } from "./expression";
import { reporterForRootId } from "./labels";
import { StatsReporter } from "./reporter";
import { Workload, workloadFromMetadata } from "./workload";

class StatsStream extends HttpContext {
  constructor(private readonly reporter: StatsReporter) {
    super();
  }
  onLog(): void {
    this.reporter.report();
  }
}

/**
 * The local node as `xds.node`, else as the pre-1.29 top-level `node` (filters.md §0); the context
 * remembers which one answered, so that expressions and labels read the matching attribute names.
 */
function localNodeContext(): ExpressionContext {
  let bytes = getProperty(["xds", "node"]);
  const legacy = bytes === null;
  if (legacy) bytes = getProperty(["node"]);
  return new ExpressionContext(bytes === null ? null : decodeNode(bytes!), legacy && bytes !== null);
}

export class StatsRoot extends RootContext {
  private reporter: StatsReporter | null = null;

  onConfigure(pluginConfigurationSize: u32): bool {
    const text = getPluginConfigurationString();
    const context = localNodeContext();
    const parsed = parseConfig(text === null ? "" : text, context);
    if (parsed.error.length > 0) {
      logError("stats: plugin configuration: ", parsed.error);
      return false;
    }
    const config = parsed.config;
    // The reporter: configured, else Istio's root ids stats_inbound/stats_outbound, else per
    // request from the listener direction (one ECDS config serves both directions, filters.md §5.5).
    let reporter = config.reporter;
    if (reporter < 0) {
      const rootId = getPluginRootId();
      reporter = reporterForRootId(rootId === null ? "" : rootId);
    }
    const node = context.node;
    const workload = node === null ? new Workload() : workloadFromMetadata(node.metadata);
    this.reporter = new StatsReporter(config, workload, reporter, context);

    // istio_build{component="proxy",tag="<ISTIO_VERSION>"} 1, as Istio's plugin published it (the
    // version holds dots, hence the ";" that the `tag` regex `(tag\.(.+?);\.)` ends on).
    const version: string | null = node === null ? null : node.metadata.getString("ISTIO_VERSION");
    const tag = version === null || version.length == 0 ? "unknown" : version!;
    new Gauge("component.proxy.tag." + tag + ";." + config.statPrefix + "_build").set(1);
    return true;
  }

  newHttpContext(contextId: u32): HttpContext | null {
    const reporter = this.reporter;
    return reporter === null ? null : new StatsStream(reporter);
  }
}

// `proxy-wasm run -c FILE`: the local proxy, run as `envoy -c FILE` would be. Logs go to stderr in
// Envoy's format; a bad configuration or a plugin that fails to load stops startup with the reason
// and exit code 1; SIGINT, SIGTERM and POST /quitquitquit shut down gracefully with exit code 0.
import { createWriteStream } from "node:fs";
import { loadBootstrap, type LoadedBootstrap } from "../config/bootstrap.js";
import { commandOptions, type EnvoyOptions } from "../config/cli-options.js";
import { EnvoyLogger } from "../proxy/logger.js";
import { ProxyServer } from "../proxy/server.js";
import type { Command } from "./command.js";
import { configErrorLine, validateConfig } from "./validate.js";

const usage = "usage: proxy-wasm run -c FILE [--config-yaml YAML] [--concurrency N] [-l LEVEL] [--component-log-level C:L,...]";

function logger(o: EnvoyOptions): EnvoyLogger {
  const sink = o.logPath ? createWriteStream(o.logPath, { flags: "a" }) : undefined;
  const log = new EnvoyLogger(o.logLevel, sink ? (line) => void sink.write(line) : undefined);
  for (const [name, level] of o.componentLogLevels) log.setLevel(name, level);
  return log;
}

/** --service-node / --service-cluster / --service-zone override the bootstrap's node, as in Envoy. */
function applyNodeOverrides(b: LoadedBootstrap, o: EnvoyOptions): void {
  const node = b.model.node;
  if (o.serviceNode !== undefined) node.id = o.serviceNode;
  if (o.serviceCluster !== undefined) node.cluster = o.serviceCluster;
  if (o.serviceZone !== undefined) node.locality = { ...node.locality, zone: o.serviceZone };
}

export async function runProxy(o: EnvoyOptions): Promise<number> {
  const log = logger(o);
  let bootstrap: LoadedBootstrap;
  try {
    bootstrap = loadBootstrap({ configPath: o.configPath, configYaml: o.configYaml });
  } catch (e) {
    log.log("main", "critical", configErrorLine(o, e as Error));
    log.log("main", "info", "exiting");
    return 1;
  }
  applyNodeOverrides(bootstrap, o);
  let quit: () => void = () => undefined;
  const quitting = new Promise<void>((resolve) => (quit = resolve));
  let server: ProxyServer;
  try {
    server = await ProxyServer.start({
      bootstrap,
      concurrency: o.concurrency,
      log,
      onQuit: () => quit(),
      commandLine: { concurrency: o.concurrency, config_path: o.configPath ?? "", config_yaml: o.configYaml ?? "", log_level: o.logLevel, mode: "Serve", base_id: o.baseId },
    });
  } catch (e) {
    log.log("main", "critical", configErrorLine(o, e as Error));
    log.log("main", "info", "exiting");
    return 1;
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    log.log("main", "warning", `caught ${signal}`);
    quit();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  await quitting;
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  await server.stop();
  return 0;
}

export const command: Command = {
  name: "run",
  summary: "run the local proxy on an Envoy bootstrap, as `envoy -c FILE` would",
  async run(args) {
    const o = commandOptions("run", usage, args);
    if (typeof o === "number") return o;
    if (o.mode === "validate") return validateConfig(o);
    return runProxy(o);
  },
};

// Envoy's command line (source/server/options_impl.cc) as `proxy-wasm run` and `proxy-wasm
// validate` accept it. Options that change what Envoy does are implemented; options that only
// matter to a real Envoy process (hot restart, drain timing, file flushing) are accepted and have
// no effect; anything else is refused by name.
import { availableParallelism } from "node:os";
import type { LogLevel } from "../envoy/server-context.js";
import { parseLogLevel } from "../proxy/logger.js";

export interface EnvoyOptions {
  configPath?: string;
  configYaml?: string;
  /** --concurrency, default: the number of hardware threads (Envoy's default). */
  concurrency: number;
  logLevel: LogLevel;
  componentLogLevels: Array<[string, LogLevel]>;
  mode: "serve" | "validate";
  serviceNode?: string;
  serviceCluster?: string;
  serviceZone?: string;
  logPath?: string;
  baseId: number;
  help: boolean;
}

export class OptionsError extends Error {
  override name = "OptionsError";
}

/** Options without effect here (hot restart, draining, log flushing), with whether they take a value. */
const acceptedWithoutEffect: Record<string, boolean> = {
  "--disable-hot-restart": false,
  "--use-dynamic-base-id": false,
  "--drain-time-s": true,
  "--drain-strategy": true,
  "--parent-shutdown-time-s": true,
  "--file-flush-interval-msec": true,
  "--local-address-ip-version": true,
  "--restart-epoch": true,
  "--log-format-escaped": false,
};

const withValue = new Set([
  "-c",
  "--config-path",
  "--config-yaml",
  "--concurrency",
  "-l",
  "--log-level",
  "--component-log-level",
  "--mode",
  "--service-node",
  "--service-cluster",
  "--service-zone",
  "--log-path",
  "--base-id",
]);

export const optionsUsage = `options (Envoy's, as \`envoy\` takes them):
  -c, --config-path FILE          bootstrap YAML or JSON
  --config-yaml YAML              bootstrap YAML merged over the file (protobuf MergeFrom)
  --concurrency N                 worker threads = Wasm VMs per plugin (default: CPUs)
  -l, --log-level LEVEL           trace|debug|info|warning|error|critical|off (default info)
  --component-log-level C:L,...   per-logger levels, e.g. wasm:debug,router:trace
  --mode serve|validate           validate: check the configuration and exit
  --service-node / --service-cluster / --service-zone   override node id, cluster, zone
  --log-path FILE                 write logs to FILE instead of stderr
  --base-id N, --disable-hot-restart, --drain-time-s N, ...   accepted, no effect here`;

function level(value: string, flag: string): LogLevel {
  const l = parseLogLevel(value);
  if (!l) throw new OptionsError(`${flag}: unknown log level "${value}" (trace, debug, info, warning, error, critical, off)`);
  return l;
}

export function parseEnvoyOptions(args: string[]): EnvoyOptions {
  const o: EnvoyOptions = {
    concurrency: availableParallelism(),
    logLevel: "info",
    componentLogLevels: [],
    mode: "serve",
    baseId: 0,
    help: false,
  };
  for (let i = 0; i < args.length; i++) {
    let flag = args[i]!;
    let value: string | undefined;
    const eq = flag.indexOf("=");
    if (flag.startsWith("--") && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (flag === "--help" || flag === "-h") {
      o.help = true;
      continue;
    }
    if (flag in acceptedWithoutEffect) {
      if (acceptedWithoutEffect[flag] && value === undefined) i++;
      continue;
    }
    if (!withValue.has(flag)) {
      throw new OptionsError(`unknown option ${flag}: not an Envoy option, or one the local proxy does not support`);
    }
    if (value === undefined) {
      value = args[++i];
      if (value === undefined) throw new OptionsError(`${flag} needs a value`);
    }
    switch (flag) {
      case "-c":
      case "--config-path":
        o.configPath = value;
        break;
      case "--config-yaml":
        o.configYaml = value;
        break;
      case "--concurrency": {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) throw new OptionsError(`--concurrency: expected a positive integer, got "${value}"`);
        o.concurrency = n;
        break;
      }
      case "-l":
      case "--log-level":
        o.logLevel = level(value, flag);
        break;
      case "--component-log-level":
        for (const pair of value.split(",")) {
          const [name, l] = pair.split(":");
          if (!name || !l) throw new OptionsError(`--component-log-level: expected name:level pairs, got "${pair}"`);
          o.componentLogLevels.push([name, level(l, flag)]);
        }
        break;
      case "--mode":
        if (value !== "serve" && value !== "validate") {
          throw new OptionsError(`--mode: "${value}" is not supported by the local proxy (serve, validate)`);
        }
        o.mode = value;
        break;
      case "--service-node":
        o.serviceNode = value;
        break;
      case "--service-cluster":
        o.serviceCluster = value;
        break;
      case "--service-zone":
        o.serviceZone = value;
        break;
      case "--log-path":
        o.logPath = value;
        break;
      case "--base-id":
        if (!/^\d+$/.test(value)) throw new OptionsError(`--base-id: expected a non-negative integer, got "${value}"`);
        o.baseId = Number(value);
        break;
    }
  }
  return o;
}

/**
 * Parses a command's arguments; on --help prints usage and options, on a bad option prints the
 * error and usage. Returns the options, or the exit code when the command is done.
 */
export function commandOptions(command: string, usage: string, args: string[]): EnvoyOptions | number {
  let o: EnvoyOptions;
  try {
    o = parseEnvoyOptions(args);
  } catch (e) {
    if (!(e instanceof OptionsError)) throw e;
    console.error(`proxy-wasm ${command}: ${e.message}\n\n${usage}`);
    return 1;
  }
  if (o.help) {
    console.log(`${usage}\n\n${optionsUsage}`);
    return 0;
  }
  return o;
}

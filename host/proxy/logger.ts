// Envoy's spdlog component loggers: one level per component ("main", "http", "router", "wasm",
// ...), changed by -l / --component-log-level at start and POST /logging at run time, writing lines
// in Envoy's default format "[%Y-%m-%d %T.%e][%t][%l][%n] %v" to stderr. (Envoy's default format
// also carries "[%g:%#]", the C++ source location, which has no equivalent here.)
import { logLevels, type Logger, type LogLevel } from "../envoy/server-context.js";

/** Envoy's logger names (source/common/common/logger.h ALL_LOGGER_IDS), as /logging lists them. */
export const envoyLoggerNames = [
  "admin", "alternate_protocols_cache", "aws", "assert", "backtrace", "basic_auth", "cache_filter", "client",
  "config", "connection", "conn_handler", "credential_injector", "decompression", "dns", "dubbo", "envoy_bug",
  "ext_authz", "ext_proc", "rocketmq", "file", "filter", "forward_proxy", "geolocation", "grpc", "happy_eyeballs",
  "hc", "health_checker", "http", "http2", "http3", "hystrix", "init", "io", "jwt", "kafka", "key_value_store",
  "lua", "main", "matcher", "misc", "mongo", "multi_connection", "oauth2", "quic", "quic_stream", "pool",
  "rate_limit_quota", "rbac", "rds", "redis", "router", "runtime", "stats", "secret", "tap", "testing", "thrift",
  "tracing", "udp", "upstream", "wasm", "websocket",
] as const;

const rank = (l: LogLevel): number => logLevels.indexOf(l);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** "2024-10-18 23:24:30.719" in local time, as spdlog's %Y-%m-%d %T.%e. */
export function logTimestamp(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function isLogLevel(s: string): s is LogLevel {
  return (logLevels as readonly string[]).includes(s);
}

/** Envoy accepts "warn" for "warning" and "err" for "error" on the command line and in /logging. */
export function parseLogLevel(s: string): LogLevel | undefined {
  const l = s === "warn" ? "warning" : s === "err" ? "error" : s;
  return isLogLevel(l) ? l : undefined;
}

export class EnvoyLogger implements Logger {
  private readonly levels = new Map<string, LogLevel>();

  constructor(
    private defaultLevel: LogLevel = "info",
    private readonly write: (line: string) => void = (line) => process.stderr.write(line),
  ) {
    for (const name of envoyLoggerNames) this.levels.set(name, defaultLevel);
  }

  /** Logger names in /logging order. */
  names(): string[] {
    return [...this.levels.keys()].sort();
  }

  has(component: string): boolean {
    return this.levels.has(component);
  }

  level(component: string): LogLevel {
    return this.levels.get(component) ?? this.defaultLevel;
  }

  setLevel(component: string, level: LogLevel): void {
    this.levels.set(component, level);
  }

  /** -l / POST /logging?level=: every logger. */
  setAll(level: LogLevel): void {
    this.defaultLevel = level;
    for (const name of this.levels.keys()) this.levels.set(name, level);
  }

  enabled(component: string, level: Exclude<LogLevel, "off">): boolean {
    const current = this.level(component);
    return current !== "off" && rank(level) >= rank(current);
  }

  log(component: string, level: Exclude<LogLevel, "off">, message: string): void {
    if (!this.enabled(component, level)) return;
    this.write(`[${logTimestamp(new Date())}][${process.pid}][${level}][${component}] ${message}\n`);
  }
}

/** Logs a message that is only built when its level is enabled (for per-request debug lines). */
export function logLazy(log: Logger, component: string, level: Exclude<LogLevel, "off">, message: () => string): void {
  const current = log.level(component);
  if (current === "off" || rank(level) < rank(current)) return;
  log.log(component, level, message());
}

/** Envoy's debug dump of a header map: one "'key', 'value'" line per entry. */
export function formatHeaders(headers: Iterable<readonly [string, string]>): string {
  return [...headers].map(([k, v]) => `'${k}', '${v}'`).join("\n");
}

// An in-memory Envoy logger: component log levels (spdlog semantics) and the lines that were
// emitted, so tests can assert on wasm logs by level.
import { logLevels, type Logger, type LogLevel } from "../envoy/server-context.js";

export interface LogEntry {
  component: string;
  level: Exclude<LogLevel, "off">;
  message: string;
}

export class MemoryLogger implements Logger {
  readonly entries: LogEntry[] = [];
  private readonly levels = new Map<string, LogLevel>();

  /** `defaultLevel` is Envoy's default (info) unless a test wants more. */
  constructor(
    private readonly defaultLevel: LogLevel = "info",
    private readonly echo: boolean = process.env.PROXY_WASM_EMULATOR_LOG === "1",
  ) {}

  level(component: string): LogLevel {
    return this.levels.get(component) ?? this.defaultLevel;
  }

  setLevel(component: string, level: LogLevel): void {
    if (!logLevels.includes(level)) throw new Error(`unknown log level ${JSON.stringify(level)} (want one of ${logLevels.join(", ")})`);
    this.levels.set(component, level);
  }

  log(component: string, level: Exclude<LogLevel, "off">, message: string): void {
    if (logLevels.indexOf(level) < logLevels.indexOf(this.level(component))) return;
    this.entries.push({ component, level, message });
    if (this.echo) process.stderr.write(`[${component}][${level}] ${message}\n`);
  }

  /** Messages of one component, optionally of one level. */
  messages(component: string, level?: LogLevel): string[] {
    return this.entries.filter((e) => e.component === component && (level === undefined || e.level === level)).map((e) => e.message);
  }

  clear(): void {
    this.entries.length = 0;
  }
}

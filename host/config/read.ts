// Typed reads from canonical JSON with Envoy's defaults, and RE2 → JavaScript regex compilation.
import { parseDuration } from "../envoy/protos.js";
import { ConfigError } from "./errors.js";
import type { JsonObject } from "./proto-json.js";

export const obj = (o: JsonObject, k: string): JsonObject | undefined => o[k] as JsonObject | undefined;
export const arr = (o: JsonObject, k: string): JsonObject[] => (o[k] as JsonObject[] | undefined) ?? [];
export const strs = (o: JsonObject, k: string): string[] => (o[k] as string[] | undefined) ?? [];
export const str = (o: JsonObject, k: string, def = ""): string => (o[k] as string | undefined) ?? def;
export const bool = (o: JsonObject, k: string, def = false): boolean => (o[k] as boolean | undefined) ?? def;
export const num = (o: JsonObject, k: string, def = 0): number => (o[k] === undefined ? def : Number(o[k]));

/** A google.protobuf.Duration field in milliseconds, or `def` when unset. */
export function durationMs(o: JsonObject, k: string, def: number): number {
  const v = o[k];
  if (typeof v !== "string") return def;
  const d = parseDuration(v)!;
  return d[0] * 1000 + Math.floor(d[1] / 1e6);
}

/**
 * Compiles an RE2 pattern (RegexMatcher.regex) for a full match, as Envoy's safe_regex matchers
 * use RE2::FullMatch. RE2's (?P<name>...) is rewritten to JavaScript's (?<name>...).
 */
export function compileFullMatch(pattern: string, path: string): RegExp {
  return compile(`^(?:${pattern.replace(/\(\?P</g, "(?<")})$`, pattern, path);
}

/** Compiles a pattern searched anywhere in the input (std::regex_search, e.g. stats tag regexes). */
export function compileSearch(pattern: string, path: string): RegExp {
  return compile(pattern.replace(/\(\?P</g, "(?<"), pattern, path);
}

function compile(source: string, original: string, path: string): RegExp {
  try {
    return new RegExp(source);
  } catch (e) {
    throw new ConfigError(`${path}: invalid regex ${JSON.stringify(original)}: ${(e as Error).message}`, path);
  }
}

// Structural validation of one JSON object against a compact field list, so the configuration
// parser only reads values that are known to have the right type and range. A field list is
// "name:type,name!:type,..." ("!" = required). Types:
//   b        boolean
//   s        string
//   n<lo>-<hi>  integer in [lo, hi]
//   d        duration string (parseDuration)
//   e<A|B>   one of the listed strings
//   o        object (its fields are checked by the caller)
//   a<max>   array of at most <max> entries (checked by the caller)
//   S        array of at most MAX_LIST non-empty strings
// Errors read "<json path>: <problem>", like Envoy's proto validation errors name the field.
// Pure code: no host imports.
import { JsonValue } from "proxy-wasm-as";

/** Longest list accepted anywhere in the configuration. */
export const MAX_LIST: i32 = 64;
/** Longest fill_interval accepted: a year is already far beyond any useful rate limit. */
export const MAX_DURATION_SECONDS: i64 = 31_536_000;

export function join(path: string, key: string): string {
  return path.length == 0 ? key : path + "." + key;
}

export function at(path: string, i: i32): string {
  return path + "[" + i.toString() + "]";
}

export class FieldChecker {
  /** The first error, "" while there is none. */
  error: string = "";

  fail(path: string, problem: string): void {
    if (this.error.length == 0) this.error = path + ": " + problem;
  }

  get failed(): bool {
    return this.error.length > 0;
  }

  /** Checks `v` is an object whose fields all appear in `fields` with valid values. */
  check(v: JsonValue, path: string, fields: string): bool {
    if (!v.isObject()) {
      this.fail(path.length == 0 ? "configuration" : path, "must be an object, got " + v.typeName());
      return false;
    }
    // "name:type" entries separated by ","; the names are kept, separated by ", ", for messages.
    let names = "";
    for (let start = 0; start < fields.length; ) {
      let end = fields.indexOf(",", start);
      if (end < 0) end = fields.length;
      const colon = fields.indexOf(":", start);
      const required = fields.charCodeAt(colon - 1) == 0x21;
      const name = fields.substring(start, required ? colon - 1 : colon);
      names += (names.length > 0 ? ", " : "") + name;
      const value = v.get(name);
      if (value !== null) this.checkValue(value, join(path, name), fields.substring(colon + 1, end));
      else if (required) this.fail(join(path, name), "is required");
      if (this.failed) return false;
      start = end + 1;
    }
    const keys = v.keys();
    for (let i = 0; i < keys.length; i++) {
      if (!(", " + names + ", ").includes(", " + keys[i] + ", ")) {
        this.fail(join(path, keys[i]), "unknown field (expected one of: " + names + ")");
        return false;
      }
    }
    return true;
  }

  private checkValue(v: JsonValue, path: string, type: string): void {
    const kind = type.charCodeAt(0);
    const arg = type.substring(1);
    let expected = "";
    if (kind == 0x62 /* b */ && !v.isBool()) expected = "true or false";
    else if ((kind == 0x73 || kind == 0x64 || kind == 0x65) /* s d e */ && !v.isString()) expected = "a string";
    else if (kind == 0x6f /* o */ && !v.isObject()) expected = "an object";
    else if ((kind == 0x61 || kind == 0x53) /* a S */ && !v.isArray()) expected = "an array";
    else if (kind == 0x6e /* n */ && !v.isNumber()) expected = "an integer";
    if (expected.length > 0) {
      this.fail(path, "must be " + expected + ", got " + v.typeName());
      return;
    }
    if (kind == 0x6e) {
      const dash = arg.indexOf("-");
      const lo = parseFloat(arg.substring(0, dash));
      const hi = parseFloat(arg.substring(dash + 1));
      const n = v.asNumber();
      if (n != Math.floor(n) || n < lo || n > hi) {
        const got = n != Math.floor(n) ? "a fraction" : Math.abs(n) < 1e15 ? (<i64>n).toString() : "a larger number";
        this.fail(path, "must be an integer from " + arg.substring(0, dash) + " to " + arg.substring(dash + 1) + ", got " + got);
      }
    } else if (kind == 0x64 && parseDuration(v.asString()) <= 0) {
      this.fail(path, "must be a positive duration like \"1s\" or \"0.250s\" (seconds, at most 9 decimals, up to " +
        MAX_DURATION_SECONDS.toString() + "s), got \"" + v.asString() + "\"");
    } else if (kind == 0x65 && !("|" + arg + "|").includes("|" + v.asString() + "|")) {
      this.fail(path, "must be one of " + arg.replaceAll("|", ", ") + ", got \"" + v.asString() + "\"");
    } else if (kind == 0x61 || kind == 0x53) {
      const max = kind == 0x53 ? MAX_LIST : <i32>parseFloat(arg);
      if (v.length > max) this.fail(path, "has " + v.length.toString() + " entries; at most " + max.toString() + " are allowed");
      for (let i = 0; kind == 0x53 && i < v.length; i++) {
        const item = v.at(i)!;
        if (!item.isString() || item.asString().length == 0) this.fail(at(path, i), "must be a non-empty string");
      }
    }
  }
}

/** The non-empty strings of a field checked as "S" (absent = none). */
export function stringList(v: JsonValue, key: string): string[] {
  const list = v.get(key);
  const out = new Array<string>();
  for (let i = 0; list !== null && i < list.length; i++) out.push(list.at(i)!.asString());
  return out;
}

function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

/**
 * A protobuf JSON Duration ("1s", "0.5s", "1.000000001s") in nanoseconds, as Envoy's
 * `fill_interval` is written; -1 if malformed, negative or longer than MAX_DURATION_SECONDS.
 */
export function parseDuration(text: string): i64 {
  const n = text.length;
  if (n < 2 || text.charCodeAt(n - 1) != 0x73) return -1;
  let ns: i64 = 0;
  let scale: i64 = 1_000_000_000;
  let i = 0;
  let point = -1;
  for (; i < n - 1; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x2e && point < 0 && i > 0) {
      point = i;
      continue;
    }
    if (!isDigit(c)) return -1;
    const d = <i64>(c - 0x30);
    if (point < 0) {
      ns = ns * 10 + d * 1_000_000_000;
      if (ns > MAX_DURATION_SECONDS * 1_000_000_000) return -1;
    } else {
      scale /= 10;
      if (scale == 0) return -1; // more than 9 decimals
      ns += d * scale;
    }
  }
  if (point == n - 2) return -1; // "1.s"
  return ns > MAX_DURATION_SECONDS * 1_000_000_000 ? -1 : ns;
}

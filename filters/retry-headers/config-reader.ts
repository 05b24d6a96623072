// Typed access to a JSON configuration that remembers the first problem as "<json path>: <what is
// wrong>", so the plugin can log one line naming the field and fail configuration. Absent members
// give the caller's default; present members of the wrong type, out of range, or unknown are
// errors (typos must not silently fall back to defaults). Pure code.
import { JsonValue } from "proxy-wasm-as";

export function memberPath(path: string, key: string): string {
  return path.length == 0 ? key : path + "." + key;
}

export function itemPath(path: string, index: i32): string {
  return path + "[" + index.toString() + "]";
}

export class ConfigReader {
  error: string = "";

  get failed(): bool {
    return this.error.length != 0;
  }

  /** Records the first error only: later ones are usually consequences of it. */
  fail(path: string, message: string): void {
    if (this.error.length == 0) this.error = path.length == 0 ? message : path + ": " + message;
  }

  /** Fails if `value` is not an object or has members outside `known`. */
  checkObject(value: JsonValue, path: string, known: string[]): bool {
    if (!value.isObject()) {
      this.fail(path, "must be an object, got " + value.typeName());
      return false;
    }
    const keys = value.keys();
    for (let i = 0; i < keys.length; i++) {
      const key = unchecked(keys[i]);
      if (!known.includes(key)) {
        this.fail(memberPath(path, key), "unknown field (expected one of: " + known.join(", ") + ")");
        return false;
      }
    }
    return true;
  }

  /** The member if present and of `type` ("object", "array", "string", "boolean", "number"). */
  member(obj: JsonValue, key: string, path: string, type: string): JsonValue | null {
    const value = obj.get(key);
    if (value === null) return null;
    if (value.typeName() != type) {
      this.fail(memberPath(path, key), "must be " + article(type) + ", got " + value.typeName());
      return null;
    }
    return value;
  }

  string(obj: JsonValue, key: string, path: string, fallback: string): string {
    const value = this.member(obj, key, path, "string");
    return value === null ? fallback : value.asString();
  }

  bool(obj: JsonValue, key: string, path: string, fallback: bool): bool {
    const value = this.member(obj, key, path, "boolean");
    return value === null ? fallback : value.asBool();
  }

  /** An integer in [min, max]; `fallback` when absent (may be outside the range, e.g. -1 = unset). */
  integer(obj: JsonValue, key: string, path: string, min: i64, max: i64, fallback: i64): i64 {
    const value = this.member(obj, key, path, "number");
    if (value === null) return fallback;
    return this.integerValue(value, memberPath(path, key), min, max, fallback);
  }

  integerValue(value: JsonValue, path: string, min: i64, max: i64, fallback: i64): i64 {
    const n = value.asNumber();
    if (!value.isNumber() || n != Math.trunc(n) || n < <f64>min || n > <f64>max) {
      this.fail(path, "must be an integer from " + min.toString() + " to " + max.toString() + ", got " + describeNumber(n));
      return fallback;
    }
    return <i64>n;
  }

  /** A non-empty array of strings, or null when absent (or on error). */
  stringArray(obj: JsonValue, key: string, path: string): string[] | null {
    const value = this.member(obj, key, path, "array");
    if (value === null) return null;
    const at = memberPath(path, key);
    if (value.length == 0) {
      this.fail(at, "must not be empty (leave it out instead)");
      return null;
    }
    const out = new Array<string>();
    for (let i = 0; i < value.length; i++) {
      const item = value.at(i)!;
      if (!item.isString()) {
        this.fail(itemPath(at, i), "must be a string, got " + item.typeName());
        return null;
      }
      out.push(item.asString());
    }
    return out;
  }
}

function article(type: string): string {
  return (type == "object" || type == "array" ? "an " : "a ") + type;
}

/** A number for an error message, without pulling float formatting into the module. */
function describeNumber(n: f64): string {
  if (isNaN(n)) return "a non-number";
  if (n != Math.trunc(n)) return "a fraction";
  if (Math.abs(n) >= 1e18) return "a number that large";
  return (<i64>n).toString();
}

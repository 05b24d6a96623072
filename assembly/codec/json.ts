// A small, dependency-free JSON reader (RFC 8259) for plugin configurations and JSON bodies, and
// the value model shared with google.protobuf.Struct (codec/struct.ts). No compiler transforms
// (transform-based JSON libraries tie a project to one AssemblyScript version, sdk-anchors.md §5).
// Errors carry the line and column where parsing stopped. Duplicate object keys keep the last
// value, as JSON.parse does. Pure code: no host imports.
import { parseJsonNumber } from "./decimal";

export enum JsonType {
  Null = 0,
  Bool = 1,
  Number = 2,
  String = 3,
  Array = 4,
  Object = 5,
}

/** Nesting limit: deeper documents are rejected instead of exhausting the Wasm stack. */
export const JSON_MAX_DEPTH: i32 = 128;

export class JsonValue {
  private kind: JsonType = JsonType.Null;
  private boolValue: bool = false;
  private numberValue: f64 = 0;
  private stringValue: string = "";
  /** Array items, or object values (parallel to `names`). */
  private items: JsonValue[] | null = null;
  private names: string[] | null = null;

  /** The JSON type; fixed when the value is made (so arrays and objects always have storage). */
  get type(): JsonType {
    return this.kind;
  }

  static nullValue(): JsonValue {
    return new JsonValue();
  }
  static fromBool(value: bool): JsonValue {
    const v = new JsonValue();
    v.kind = JsonType.Bool;
    v.boolValue = value;
    return v;
  }
  static fromNumber(value: f64): JsonValue {
    const v = new JsonValue();
    v.kind = JsonType.Number;
    v.numberValue = value;
    return v;
  }
  static fromString(value: string): JsonValue {
    const v = new JsonValue();
    v.kind = JsonType.String;
    v.stringValue = value;
    return v;
  }
  static newArray(): JsonValue {
    const v = new JsonValue();
    v.kind = JsonType.Array;
    v.items = new Array<JsonValue>();
    return v;
  }
  static newObject(): JsonValue {
    const v = new JsonValue();
    v.kind = JsonType.Object;
    v.items = new Array<JsonValue>();
    v.names = new Array<string>();
    return v;
  }

  isNull(): bool { return this.kind == JsonType.Null; }
  isBool(): bool { return this.kind == JsonType.Bool; }
  isNumber(): bool { return this.kind == JsonType.Number; }
  isString(): bool { return this.kind == JsonType.String; }
  isArray(): bool { return this.kind == JsonType.Array; }
  isObject(): bool { return this.kind == JsonType.Object; }

  /** "null", "boolean", "number", "string", "array" or "object", for error messages. */
  typeName(): string {
    switch (this.kind) {
      case JsonType.Bool: return "boolean";
      case JsonType.Number: return "number";
      case JsonType.String: return "string";
      case JsonType.Array: return "array";
      case JsonType.Object: return "object";
    }
    return "null";
  }

  /** The boolean, or false for other types. */
  asBool(): bool { return this.kind == JsonType.Bool ? this.boolValue : false; }
  /** The number, or NaN for other types. */
  asNumber(): f64 { return this.kind == JsonType.Number ? this.numberValue : NaN; }
  /** The string, or "" for other types. */
  asString(): string { return this.kind == JsonType.String ? this.stringValue : ""; }

  /** Number of array items or object members; 0 for scalars. */
  get length(): i32 {
    const items = this.items;
    return items === null ? 0 : items.length;
  }

  /** Array item or object member value by position, or null. */
  at(index: i32): JsonValue | null {
    const items = this.items;
    if (items === null || index < 0 || index >= items.length) return null;
    return unchecked(items[index]);
  }

  /** Object member names in document order (empty for non-objects). */
  keys(): string[] {
    const names = this.names;
    return names === null ? new Array<string>() : names.slice(0);
  }

  /** Array items or object member values in order (empty for scalars). */
  values(): JsonValue[] {
    const items = this.items;
    return items === null ? new Array<JsonValue>() : items.slice(0);
  }

  private indexOf(key: string): i32 {
    const names = this.names;
    if (names === null) return -1;
    for (let i = 0, n = names.length; i < n; i++) if (unchecked(names[i]) == key) return i;
    return -1;
  }

  has(key: string): bool { return this.indexOf(key) >= 0; }

  /** Object member, or null if absent or not an object. */
  get(key: string): JsonValue | null {
    const i = this.indexOf(key);
    return i < 0 ? null : unchecked(this.items![i]);
  }

  /** String member, or null if absent or not a string. */
  getString(key: string): string | null {
    const v = this.get(key);
    return v !== null && v.type == JsonType.String ? v.stringValue : null;
  }
  /** Number member, or `fallback` if absent or not a number. */
  getNumber(key: string, fallback: f64 = 0): f64 {
    const v = this.get(key);
    return v !== null && v.type == JsonType.Number ? v.numberValue : fallback;
  }
  /** Boolean member, or `fallback` if absent or not a boolean. */
  getBool(key: string, fallback: bool = false): bool {
    const v = this.get(key);
    return v !== null && v.type == JsonType.Bool ? v.boolValue : fallback;
  }
  /** Object member that is an object, or null. */
  getObject(key: string): JsonValue | null {
    const v = this.get(key);
    return v !== null && v.type == JsonType.Object ? v : null;
  }
  /** Object member that is an array, or null. */
  getArray(key: string): JsonValue | null {
    const v = this.get(key);
    return v !== null && v.type == JsonType.Array ? v : null;
  }

  /** Sets an object member (replacing an existing one). No effect on non-objects. */
  set(key: string, value: JsonValue): JsonValue {
    if (this.kind != JsonType.Object) return this;
    const i = this.indexOf(key);
    if (i >= 0) unchecked((this.items![i] = value));
    else {
      this.names!.push(key);
      this.items!.push(value);
    }
    return this;
  }

  /** Appends an array item. No effect on non-arrays. */
  push(value: JsonValue): JsonValue {
    if (this.kind == JsonType.Array) this.items!.push(value);
    return this;
  }

  /** Serializes to compact JSON (object members in insertion order). */
  stringify(): string {
    const out = new Array<string>();
    writeJson(this, out);
    return out.join("");
  }
}

function writeJson(v: JsonValue, out: string[]): void {
  switch (v.type) {
    case JsonType.Null: out.push("null"); break;
    case JsonType.Bool: out.push(v.asBool() ? "true" : "false"); break;
    case JsonType.Number: out.push(formatNumber(v.asNumber())); break;
    case JsonType.String: writeJsonString(v.asString(), out); break;
    case JsonType.Array: {
      out.push("[");
      for (let i = 0, n = v.length; i < n; i++) {
        if (i > 0) out.push(",");
        writeJson(v.at(i)!, out);
      }
      out.push("]");
      break;
    }
    case JsonType.Object: {
      out.push("{");
      const keys = v.keys();
      for (let i = 0, n = keys.length; i < n; i++) {
        if (i > 0) out.push(",");
        writeJsonString(unchecked(keys[i]), out);
        out.push(":");
        writeJson(v.at(i)!, out);
      }
      out.push("}");
      break;
    }
  }
}

/** JSON number text: integers without a fraction, non-finite numbers as null (as JSON.stringify). */
export function formatNumber(n: f64): string {
  if (!isFinite(n)) return "null";
  if (n == Math.trunc(n) && Math.abs(n) < 9007199254740992.0) return (<i64>n).toString();
  return n.toString();
}

/** Two lower-case hex digits of a control character (a module-level constant would be in every module). */
function hex2(c: i32): string {
  return String.fromCharCodes([hexDigit(c >> 4), hexDigit(c & 15)]);
}

// @ts-ignore: decorator
@inline function hexDigit(n: i32): i32 {
  return n < 10 ? 0x30 + n : 0x57 + n;
}

function writeJsonString(s: string, out: string[]): void {
  let start = 0;
  out.push("\"");
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    let escape: string | null = null;
    if (c == 0x22) escape = "\\\"";
    else if (c == 0x5c) escape = "\\\\";
    else if (c < 0x20) {
      if (c == 0x0a) escape = "\\n";
      else if (c == 0x0d) escape = "\\r";
      else if (c == 0x09) escape = "\\t";
      else if (c == 0x08) escape = "\\b";
      else if (c == 0x0c) escape = "\\f";
      else escape = "\\u00" + hex2(c);
    }
    if (escape !== null) {
      if (i > start) out.push(s.substring(start, i));
      out.push(escape);
      start = i + 1;
    }
  }
  if (start < s.length) out.push(s.substring(start));
  out.push("\"");
}

/** Outcome of parseJson: the value, or an error with its position. */
export class JsonParseResult {
  value: JsonValue | null = null;
  /** Empty when parsing succeeded. */
  error: string = "";
  /** Where parsing stopped: UTF-16 offset, 1-based line and column. */
  offset: i32 = 0;
  line: i32 = 0;
  column: i32 = 0;

  get ok(): bool {
    return this.value !== null;
  }

  /** "line L, column C: <error>", or "" on success. */
  describe(): string {
    if (this.value !== null) return "";
    return "line " + this.line.toString() + ", column " + this.column.toString() + ": " + this.error;
  }
}

/** Parses JSON text. Never aborts: malformed input gives a result with `error` set. */
export function parseJson(text: string): JsonParseResult {
  const parser = new JsonParser(text);
  const result = new JsonParseResult();
  parser.skipWhitespace();
  const value = parser.parseValue(0);
  if (value !== null) {
    parser.skipWhitespace();
    if (parser.pos < text.length) parser.fail("unexpected " + parser.describeChar() + " after the JSON value");
  }
  if (parser.error.length > 0) {
    result.error = parser.error;
    result.offset = parser.errorAt;
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < parser.errorAt; i++) {
      if (text.charCodeAt(i) == 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    result.line = line;
    result.column = parser.errorAt - lineStart + 1;
  } else {
    result.value = value;
  }
  return result;
}

/** Parses UTF-8 encoded JSON (e.g. a configuration buffer). */
export function parseJsonBytes(bytes: ArrayBuffer): JsonParseResult {
  return parseJson(String.UTF8.decode(bytes));
}

class JsonParser {
  pos: i32 = 0;
  error: string = "";
  errorAt: i32 = 0;

  constructor(public text: string) {}

  fail(message: string): void {
    if (this.error.length == 0) {
      this.error = message;
      this.errorAt = this.pos;
    }
  }

  describeChar(): string {
    if (this.pos >= this.text.length) return "end of input";
    const c = this.text.charCodeAt(this.pos);
    if (c < 0x20) return "control character U+00" + hex2(c);
    return "character '" + this.text.charAt(this.pos) + "'";
  }

  skipWhitespace(): void {
    const text = this.text;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.pos++;
    }
  }

  parseValue(depth: i32): JsonValue | null {
    if (this.pos >= this.text.length) { this.fail("unexpected end of input, expected a value"); return null; }
    const c = this.text.charCodeAt(this.pos);
    if (c == 0x7b) return this.parseObject(depth + 1);
    if (c == 0x5b) return this.parseArray(depth + 1);
    if (c == 0x22) {
      const s = this.parseString();
      return s === null ? null : JsonValue.fromString(s);
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (this.matchLiteral("true")) return JsonValue.fromBool(true);
    if (this.matchLiteral("false")) return JsonValue.fromBool(false);
    if (this.matchLiteral("null")) return JsonValue.nullValue();
    this.fail("unexpected " + this.describeChar() + ", expected a value");
    return null;
  }

  matchLiteral(word: string): bool {
    const n = word.length;
    if (this.pos + n > this.text.length) return false;
    for (let i = 0; i < n; i++) if (this.text.charCodeAt(this.pos + i) != word.charCodeAt(i)) return false;
    this.pos += n;
    return true;
  }

  parseObject(depth: i32): JsonValue | null {
    if (depth > JSON_MAX_DEPTH) { this.fail("nesting deeper than " + JSON_MAX_DEPTH.toString() + " levels"); return null; }
    this.pos++; // {
    const obj = JsonValue.newObject();
    this.skipWhitespace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x7d) {
      this.pos++;
      return obj;
    }
    while (true) {
      this.skipWhitespace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x22) {
        this.fail("unexpected " + this.describeChar() + ", expected a string key");
        return null;
      }
      const key = this.parseString();
      if (key === null) return null;
      this.skipWhitespace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x3a) {
        this.fail("unexpected " + this.describeChar() + ", expected ':' after the key \"" + key + "\"");
        return null;
      }
      this.pos++;
      this.skipWhitespace();
      const value = this.parseValue(depth);
      if (value === null) return null;
      obj.set(key, value);
      this.skipWhitespace();
      if (this.pos >= this.text.length) { this.fail("unexpected end of input, expected ',' or '}'"); return null; }
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c == 0x7d) return obj;
      if (c != 0x2c) {
        this.pos--;
        this.fail("unexpected " + this.describeChar() + ", expected ',' or '}'");
        return null;
      }
    }
    return null;
  }

  parseArray(depth: i32): JsonValue | null {
    if (depth > JSON_MAX_DEPTH) { this.fail("nesting deeper than " + JSON_MAX_DEPTH.toString() + " levels"); return null; }
    this.pos++; // [
    const arr = JsonValue.newArray();
    this.skipWhitespace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x5d) {
      this.pos++;
      return arr;
    }
    while (true) {
      this.skipWhitespace();
      const value = this.parseValue(depth);
      if (value === null) return null;
      arr.push(value);
      this.skipWhitespace();
      if (this.pos >= this.text.length) { this.fail("unexpected end of input, expected ',' or ']'"); return null; }
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c == 0x5d) return arr;
      if (c != 0x2c) {
        this.pos--;
        this.fail("unexpected " + this.describeChar() + ", expected ',' or ']'");
        return null;
      }
    }
    return null;
  }

  parseString(): string | null {
    const text = this.text;
    this.pos++; // opening quote
    let parts: string[] | null = null;
    let start = this.pos;
    while (this.pos < text.length) {
      const c = text.charCodeAt(this.pos);
      if (c == 0x22) {
        const tail = text.substring(start, this.pos);
        this.pos++;
        if (parts === null) return tail;
        parts.push(tail);
        return parts.join("");
      }
      if (c < 0x20) { this.fail("unescaped " + this.describeChar() + " in a string"); return null; }
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      if (parts === null) parts = new Array<string>();
      parts.push(text.substring(start, this.pos));
      this.pos++; // backslash
      if (this.pos >= text.length) break;
      const e = text.charCodeAt(this.pos);
      let decoded: i32 = -1;
      if (e == 0x22 || e == 0x5c || e == 0x2f) decoded = e;
      else if (e == 0x62) decoded = 0x08;
      else if (e == 0x66) decoded = 0x0c;
      else if (e == 0x6e) decoded = 0x0a;
      else if (e == 0x72) decoded = 0x0d;
      else if (e == 0x74) decoded = 0x09;
      else if (e == 0x75) {
        decoded = 0;
        for (let i = 1; i <= 4; i++) {
          const h = this.pos + i < text.length ? hexValue(text.charCodeAt(this.pos + i)) : -1;
          if (h < 0) {
            this.pos--;
            this.fail("invalid \\u escape: expected 4 hex digits");
            return null;
          }
          decoded = (decoded << 4) | h;
        }
        this.pos += 4;
      } else {
        this.pos--;
        this.fail("invalid escape '\\" + text.charAt(this.pos + 1) + "' in a string");
        return null;
      }
      parts.push(String.fromCharCode(decoded));
      this.pos++;
      start = this.pos;
    }
    this.fail("unterminated string");
    return null;
  }

  parseNumber(): JsonValue | null {
    const text = this.text;
    const start = this.pos;
    if (text.charCodeAt(this.pos) == 0x2d) this.pos++;
    if (this.pos >= text.length || !isDigit(text.charCodeAt(this.pos))) {
      this.fail("invalid number: expected a digit");
      return null;
    }
    if (text.charCodeAt(this.pos) == 0x30) {
      this.pos++;
      if (this.pos < text.length && isDigit(text.charCodeAt(this.pos))) {
        this.fail("invalid number: leading zero");
        return null;
      }
    } else {
      while (this.pos < text.length && isDigit(text.charCodeAt(this.pos))) this.pos++;
    }
    if (this.pos < text.length && text.charCodeAt(this.pos) == 0x2e) {
      this.pos++;
      if (this.pos >= text.length || !isDigit(text.charCodeAt(this.pos))) {
        this.fail("invalid number: expected a digit after '.'");
        return null;
      }
      while (this.pos < text.length && isDigit(text.charCodeAt(this.pos))) this.pos++;
    }
    if (this.pos < text.length && (text.charCodeAt(this.pos) | 0x20) == 0x65) {
      this.pos++;
      if (this.pos < text.length && (text.charCodeAt(this.pos) == 0x2b || text.charCodeAt(this.pos) == 0x2d)) this.pos++;
      if (this.pos >= text.length || !isDigit(text.charCodeAt(this.pos))) {
        this.fail("invalid number: expected a digit in the exponent");
        return null;
      }
      while (this.pos < text.length && isDigit(text.charCodeAt(this.pos))) this.pos++;
    }
    return JsonValue.fromNumber(parseJsonNumber(text, start, this.pos));
  }
}

// @ts-ignore: decorator
@inline function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

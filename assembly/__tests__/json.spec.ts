// The configuration JSON reader: RFC 8259 values, JSON.parse-compatible results, and errors that
// say what is wrong and where.
import { JSON_MAX_DEPTH, JsonType, JsonValue, formatNumber, parseJson, parseJsonBytes } from "../codec/json";
import { utf8 } from "./helpers";

function parsed(text: string): JsonValue {
  const r = parseJson(text);
  if (!r.ok) abort("unexpected JSON error: " + r.describe());
  return r.value!;
}

function errorOf(text: string): string {
  const r = parseJson(text);
  return r.ok ? "(no error)" : r.describe();
}

describe("parseJson values", () => {
  it("reads scalars", () => {
    expect(parsed("null").isNull()).toBe(true);
    expect(parsed("true").asBool()).toBe(true);
    expect(parsed("false").asBool()).toBe(false);
    expect(parsed("\"x\"").asString()).toBe("x");
    expect(parsed(" \t\r\n42 \n").asNumber()).toBe(42);
  });

  it("reads numbers per the JSON grammar", () => {
    expect(parsed("0").asNumber()).toBe(0);
    expect(parsed("-0.5").asNumber()).toBe(-0.5);
    expect(parsed("1e3").asNumber()).toBe(1000);
    expect(parsed("2.5E-2").asNumber()).toBe(0.025);
    expect(parsed("-12.75e+1").asNumber()).toBe(-127.5);
    expect(parsed("9007199254740993").asNumber()).toBe(9007199254740992);
  });

  it("reads big numbers with exponents 23..37 as JSON.parse does (AssemblyScript's parseFloat is off there)", () => {
    expect(parsed("42246517072897404e23").asNumber()).toBe(4.22465170728974e+39);
    expect(parsed("-42246517072897404e+23").asNumber()).toBe(-4.22465170728974e+39);
    expect(parsed("9474099219925474000700719925474099219925474099").asNumber()).toBe(9.474099219925474e+45);
    expect(parsed("5849329162519545e37").asNumber()).toBe(5.849329162519545e+52);
    expect(parsed("9007199254740993e30").asNumber()).toBe(9.007199254740993e+45);
    expect(parsed("123456789012345678901234567890e10").asNumber()).toBe(1.2345678901234568e+39);
    expect(parsed("1e23").asNumber()).toBe(1e+23);
  });

  it("reads strings with every escape", () => {
    expect(parsed("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"").asString()).toBe("a\"b\\c/d\b\f\n\r\t");
    expect(parsed("\"\\u00e9\\u20AC\"").asString()).toBe("é€");
    // a surrogate pair written as two escapes
    expect(parsed("\"\\ud83d\\ude00\"").asString()).toBe("😀");
    expect(parsed("\"日本\"").asString()).toBe("日本");
  });

  it("reads nested objects and arrays in document order", () => {
    const v = parsed("{\"b\": [1, {\"c\": null}, []], \"a\": {}, \"s\": \"t\"}");
    expect(v.type).toBe(JsonType.Object);
    const keys = v.keys();
    expect(keys.length).toBe(3);
    expect(keys[0]).toBe("b");
    expect(keys[1]).toBe("a");
    const b = v.getArray("b")!;
    expect(b.length).toBe(3);
    expect(b.at(0)!.asNumber()).toBe(1);
    expect(b.at(1)!.get("c")!.isNull()).toBe(true);
    expect(b.at(2)!.length).toBe(0);
    expect(v.getObject("a")!.length).toBe(0);
    expect(v.getString("s")).toBe("t");
  });

  it("keeps the last of duplicate keys, as JSON.parse does", () => {
    const v = parsed("{\"k\": 1, \"k\": 2}");
    expect(v.length).toBe(1);
    expect(v.getNumber("k")).toBe(2);
  });

  it("gives typed getters that refuse the wrong type", () => {
    const v = parsed("{\"n\": 1, \"s\": \"x\", \"b\": true}");
    expect(v.getString("n")).toBeNull();
    expect(v.getNumber("s", -1)).toBe(-1);
    expect(v.getBool("n", false)).toBe(false);
    expect(v.getBool("b")).toBe(true);
    expect(v.getObject("s")).toBeNull();
    expect(v.get("missing")).toBeNull();
    expect(v.has("b")).toBe(true);
    expect(v.get("n")!.typeName()).toBe("number");
  });

  it("reads UTF-8 bytes", () => {
    expect(parseJsonBytes(utf8("{\"clé\": \"€\"}")).value!.getString("clé")).toBe("€");
  });
});

describe("parseJson errors", () => {
  it("reports an empty document", () => {
    expect(errorOf("")).toBe("line 1, column 1: unexpected end of input, expected a value");
    expect(errorOf("   ")).toBe("line 1, column 4: unexpected end of input, expected a value");
  });

  it("reports the line and column of the problem", () => {
    expect(errorOf("{\n  \"a\": 1,\n  \"b\" 2\n}")).toBe("line 3, column 7: unexpected character '2', expected ':' after the key \"b\"");
    expect(errorOf("[1, 2,]")).toBe("line 1, column 7: unexpected character ']', expected a value");
    expect(errorOf("{\"a\": 1,}")).toBe("line 1, column 9: unexpected character '}', expected a string key");
    expect(errorOf("[1 2]")).toBe("line 1, column 4: unexpected character '2', expected ',' or ']'");
    expect(errorOf("{\"a\": 1 \"b\": 2}")).toBe("line 1, column 9: unexpected character '\"', expected ',' or '}'");
  });

  it("rejects what JSON.parse rejects in numbers", () => {
    expect(errorOf("01")).toBe("line 1, column 2: invalid number: leading zero");
    expect(errorOf("-")).toBe("line 1, column 2: invalid number: expected a digit");
    expect(errorOf("1.")).toBe("line 1, column 3: invalid number: expected a digit after '.'");
    expect(errorOf("1e")).toBe("line 1, column 3: invalid number: expected a digit in the exponent");
    expect(errorOf("+1")).toBe("line 1, column 1: unexpected character '+', expected a value");
    expect(errorOf(".5")).toBe("line 1, column 1: unexpected character '.', expected a value");
  });

  it("rejects bad strings", () => {
    expect(errorOf("\"abc")).toBe("line 1, column 5: unterminated string");
    expect(errorOf("\"a\\x\"")).toBe("line 1, column 3: invalid escape '\\x' in a string");
    expect(errorOf("\"\\u12G4\"")).toBe("line 1, column 2: invalid \\u escape: expected 4 hex digits");
    expect(errorOf("\"a\nb\"")).toBe("line 1, column 3: unescaped control character U+000a in a string");
    expect(errorOf("{'a': 1}")).toBe("line 1, column 2: unexpected character ''', expected a string key");
  });

  it("rejects misspelled literals and trailing content", () => {
    expect(errorOf("tru")).toBe("line 1, column 1: unexpected character 't', expected a value");
    expect(errorOf("nul")).toBe("line 1, column 1: unexpected character 'n', expected a value");
    expect(errorOf("{} x")).toBe("line 1, column 4: unexpected character 'x' after the JSON value");
    expect(errorOf("1 2")).toBe("line 1, column 3: unexpected character '2' after the JSON value");
  });

  it("rejects unterminated containers", () => {
    expect(errorOf("[1, 2")).toBe("line 1, column 6: unexpected end of input, expected ',' or ']'");
    expect(errorOf("{\"a\": [")).toBe("line 1, column 8: unexpected end of input, expected a value");
  });

  it("limits nesting depth instead of overflowing the stack", () => {
    const ok = "[".repeat(JSON_MAX_DEPTH) + "]".repeat(JSON_MAX_DEPTH);
    expect(parseJson(ok).ok).toBe(true);
    const deep = "[".repeat(JSON_MAX_DEPTH + 1) + "]".repeat(JSON_MAX_DEPTH + 1);
    const r = parseJson(deep);
    expect(r.ok).toBe(false);
    expect(r.error).toBe("nesting deeper than 128 levels");
    expect(r.offset).toBe(JSON_MAX_DEPTH);
  });
});

describe("JsonValue building and stringify", () => {
  it("builds values and serializes them compactly", () => {
    const v = JsonValue.newObject()
      .set("name", JsonValue.fromString("a\"b\n"))
      .set("n", JsonValue.fromNumber(3))
      .set("f", JsonValue.fromNumber(0.5))
      .set("list", JsonValue.newArray().push(JsonValue.fromBool(true)).push(JsonValue.nullValue()));
    expect(v.stringify()).toBe("{\"name\":\"a\\\"b\\n\",\"n\":3,\"f\":0.5,\"list\":[true,null]}");
    v.set("n", JsonValue.fromNumber(4));
    expect(v.getNumber("n")).toBe(4);
    expect(v.length).toBe(4);
  });

  it("round-trips parse and stringify", () => {
    const text = "{\"a\":[1,-2.5,\"x\\u0001\"],\"b\":{\"c\":false}}";
    expect(parsed(text).stringify()).toBe(text);
  });

  it("formats numbers as JSON does", () => {
    expect(formatNumber(1)).toBe("1");
    expect(formatNumber(-0.125)).toBe("-0.125");
    expect(formatNumber(NaN)).toBe("null");
    expect(formatNumber(Infinity)).toBe("null");
  });
});

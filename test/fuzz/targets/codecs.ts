// Fuzz targets for the SDK's decoders (header pairs, JSON, base64, Struct/Value/ListValue, Node
// and Metadata messages, property values and paths, raw protobuf), each run in the codec-fuzz
// module. Inputs are valid by construction, mutations of valid ones, or random bytes. Besides "no
// trap", each target checks its decoder against an independent one where one exists:
// - pairs: proxy-wasm-cpp-host's parser as the host implements it (host/wasm/pairs.ts): the SDK
//   must accept exactly what the host accepts (proxy-wasm-abi.md §5.1), with the same pairs;
// - JSON: JSON.parse (RFC 8259) on valid UTF-8 text, within the SDK's documented depth limit;
// - base64: the RFC 4648 grammar with optional padding (what the SDK documents) and Node's decoder;
// - Struct, Node, Metadata: protobufjs with Envoy's protos encodes the valid inputs, and decodes
//   what the SDK's Struct encoder produces.
import { decodeToObject, encodeJson } from "../../../host/envoy/protos.js";
import { decodePairs, encodePairs } from "../../../host/wasm/pairs.js";
import { randomJson, pathologicalJsonText, type Json } from "../json-gen.js";
import { mutate, utf8 } from "../mutate.js";
import type { Prng } from "../prng.js";
import { CodecModule, codecModuleName } from "./codec-module.js";
import { modulePath } from "../../support/modules.js";
import { Finding, type FuzzCase, type FuzzTarget, type Outcome, type TargetRunner } from "./types.js";

const u32le = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};
const pairsDictionary = [u32le(0), u32le(1), u32le(1024), u32le(1025), u32le(0xffffffff), new Uint8Array([0]), new Uint8Array([0, 0])];
const jsonDictionary = ["{", "}", "[", "]", '"', ":", ",", "\\u", "\\ud800", "null", "true", "-", "e+", "1e999", "\ufeff"].map(utf8);
const base64Dictionary = ["=", "==", "A", "+", "/", "-", "_", " ", "\n", "QQ"].map(utf8);
const protoDictionary = [new Uint8Array([0x0a]), new Uint8Array([0x12]), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), new Uint8Array([0x80]), new Uint8Array([0x0b]), new Uint8Array([0x0c])];

/** A valid input 40% of the time, a mutation of one 45%, random bytes 15%. */
function mixed(rng: Prng, valid: () => FuzzCase, dictionary: readonly Uint8Array[]): FuzzCase {
  const r = rng.float();
  if (r < 0.4) return valid();
  if (r < 0.85) return { input: mutate(rng, valid().input, dictionary, rng.chance(0.3) ? valid().input : undefined) };
  return { input: rng.bytes(rng.length(512)) };
}

/** JSON values compared as the SDK represents them: numbers are doubles, non-finite ones print as null, -0 as 0. */
function normalize(v: unknown): unknown {
  if (typeof v === "number") return Number.isFinite(v) ? (Object.is(v, -0) ? 0 : v) : null;
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

function hasLoneSurrogate(v: unknown): boolean {
  if (typeof v === "string") return /\p{Cs}/u.test(v);
  if (Array.isArray(v)) return v.some(hasLoneSurrogate);
  if (v && typeof v === "object") return Object.entries(v).some(([k, x]) => hasLoneSurrogate(k) || hasLoneSurrogate(x));
  return false;
}

function depthOf(v: unknown): number {
  if (Array.isArray(v)) return 1 + Math.max(0, ...v.map(depthOf));
  if (v && typeof v === "object") return 1 + Math.max(0, ...Object.values(v).map(depthOf));
  return 0;
}

/**
 * Where two JSON values differ, or null. Numbers may differ by a few units in the last place: RFC
 * 8259 §6 lets a parser limit precision, and AssemblyScript's parseFloat (which the SDK's reader
 * uses) is not always correctly rounded. Anything larger is a misread.
 */
function jsonDifference(actual: unknown, expected: unknown, path = "$"): string | null {
  if (typeof actual === "number" && typeof expected === "number") {
    const close = actual === expected || Math.abs(actual - expected) <= 1e-14 * Math.max(Math.abs(actual), Math.abs(expected));
    return close ? null : `${path}: ${actual} instead of ${expected}`;
  }
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (actual.length !== expected.length) return `${path}: ${actual.length} items instead of ${expected.length}`;
    for (let i = 0; i < actual.length; i++) {
      const d = jsonDifference(actual[i], expected[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (actual && expected && typeof actual === "object" && typeof expected === "object" && !Array.isArray(actual) && !Array.isArray(expected)) {
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    for (const k of keys) {
      if (!(k in actual) || !(k in expected)) return `${path}: key ${JSON.stringify(k)} ${k in actual ? "added" : "missing"}`;
      const d = jsonDifference((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k], `${path}[${JSON.stringify(k)}]`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(actual, expected) ? null : `${path}: ${JSON.stringify(actual)?.slice(0, 200)} instead of ${JSON.stringify(expected)?.slice(0, 200)}`;
}

function sameJson(actual: unknown, expected: unknown, what: string): void {
  const difference = jsonDifference(normalize(actual), normalize(expected));
  if (difference) throw new Finding("oracle", `${what}: ${difference}`);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
function validUtf8(b: Uint8Array): string | null {
  try {
    return strictUtf8.decode(b);
  } catch {
    return null;
  }
}

const utf16 = (b: Buffer): string => b.toString("utf16le");

/** A Struct-compatible random object (Struct keys are strings, numbers doubles). */
function randomObject(rng: Prng): { [k: string]: Json } {
  const v = randomJson(rng);
  return v && typeof v === "object" && !Array.isArray(v) ? v : { value: v };
}

/** google.protobuf.Struct/Value as protobufjs decodes them → plain JSON. */
function protoValueToJson(v: Record<string, unknown>): unknown {
  if ("nullValue" in v) return null;
  if ("numberValue" in v) return v.numberValue;
  if ("stringValue" in v) return v.stringValue;
  if ("boolValue" in v) return v.boolValue;
  if ("structValue" in v) return protoStructToJson(v.structValue as Record<string, unknown>);
  if ("listValue" in v) return ((v.listValue as { values?: Array<Record<string, unknown>> }).values ?? []).map(protoValueToJson);
  return null;
}
function protoStructToJson(s: Record<string, unknown>): unknown {
  const fields = (s.fields ?? {}) as Record<string, Record<string, unknown>>;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, protoValueToJson(v)]));
}

/** A codec target: `generate` makes inputs, `check` judges one call's result. */
function codecTarget(
  name: string,
  exportName: string,
  generate: (rng: Prng) => FuzzCase,
  check: (c: FuzzCase, result: number, output: Buffer) => Outcome,
): FuzzTarget {
  return {
    name,
    caseDeadlineMs: 2000,
    async prepare() {
      await modulePath(codecModuleName);
    },
    generate,
    async open(): Promise<TargetRunner> {
      const module = await CodecModule.open();
      return {
        run(c) {
          const { result, output } = module.call(exportName, c.input);
          return check(c, result, output);
        },
        async close() {},
      };
    },
  };
}

// ------------------------------------------------------------------ header pairs

function randomHeaders(rng: Prng): Array<[string, string]> {
  const names = [":path", ":method", ":authority", "x-envoy-peer-metadata", "content-type", "", "x"];
  const text = (): string => (rng.chance(0.5) ? rng.pick(names) : Buffer.from(rng.bytes(rng.length(40))).toString("latin1"));
  return Array.from({ length: rng.length(40) }, () => [text(), text()] as [string, string]);
}

function validPairs(rng: Prng): FuzzCase {
  const headers = randomHeaders(rng);
  return { input: new Uint8Array(encodePairs(headers)), expect: headers.length };
}

/** The host's parser turns a malformed buffer into an empty map; "" (size 0) is an empty map too. */
function hostPairCount(input: Uint8Array): number {
  return decodePairs(input).length;
}

function checkPairCount(c: FuzzCase, count: number): Outcome {
  if (count === -1) throw new Finding("oracle", "re-encoding the decoded pairs does not give the input back, or the string and bytes decoders disagree");
  const host = hostPairCount(c.input);
  if (c.expect !== undefined && count !== c.expect) throw new Finding("oracle", `valid pairs (${String(c.expect)}) decoded as ${count}`);
  if (count === -2) {
    if (host !== 0) throw new Finding("oracle", `the SDK rejects pairs the host parses (${host} pairs)`);
    return "rejected";
  }
  if (count !== host && !(count === 0 && host === 0)) throw new Finding("oracle", `the SDK decodes ${count} pairs, the host ${host}`);
  return "accepted";
}

// ------------------------------------------------------------------ JSON

function validJsonText(rng: Prng): FuzzCase {
  const v = randomJson(rng);
  const text = rng.chance(0.3) ? JSON.stringify(v, null, rng.pick([1, 2, "\t"])) : JSON.stringify(v);
  return { input: utf8(text), expect: JSON.parse(text) };
}

function generateJson(rng: Prng): FuzzCase {
  if (rng.chance(0.15)) return { input: utf8(pathologicalJsonText(rng)) };
  return mixed(rng, () => validJsonText(rng), jsonDictionary);
}

function checkJson(c: FuzzCase, result: number, output: Buffer): Outcome {
  const text = validUtf8(c.input);
  let reference: { value: unknown } | null = null;
  if (text !== null) {
    try {
      reference = { value: JSON.parse(text) };
    } catch {
      reference = null;
    }
  }
  if (result === 1) {
    if (text === null) return "accepted"; // invalid UTF-8: the SDK substitutes, JSON.parse has no opinion
    if (!reference) throw new Finding("oracle", `the SDK accepts text JSON.parse rejects; SDK read it as ${utf16(output).slice(0, 200)}`);
    sameJson(JSON.parse(utf16(output)), reference.value, "the SDK's value differs from JSON.parse's");
    return "accepted";
  }
  if (reference && depthOf(reference.value) <= 128) {
    throw new Finding("oracle", `the SDK rejects valid JSON (depth ${depthOf(reference.value)}): ${utf16(output)}`);
  }
  return "rejected";
}

// ------------------------------------------------------------------ base64

const base64Grammar = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

function generateBase64(rng: Prng): FuzzCase {
  return mixed(
    rng,
    () => {
      const bytes = rng.bytes(rng.length(300));
      let text = Buffer.from(bytes).toString("base64");
      if (rng.chance(0.3)) text = text.replace(/=+$/, "");
      return { input: utf8(text), expect: bytes };
    },
    base64Dictionary,
  );
}

function checkBase64(c: FuzzCase, result: number, output: Buffer): Outcome {
  if (result === -1) throw new Finding("oracle", "decode(encode(bytes)) differs from bytes");
  const text = Buffer.from(c.input).toString("latin1");
  const valid = base64Grammar.test(text);
  if ((result === 1) !== valid) throw new Finding("oracle", `the SDK ${result === 1 ? "accepts" : "rejects"} ${JSON.stringify(text.slice(0, 80))}, the RFC 4648 grammar ${valid ? "accepts" : "rejects"} it`);
  if (result === 1 && !output.equals(Buffer.from(text, "base64"))) throw new Finding("oracle", "the SDK decodes differently from Node's base64 decoder");
  if (c.expect && !output.equals(Buffer.from(c.expect as Uint8Array))) throw new Finding("oracle", "a valid encoding decodes to other bytes");
  return result === 1 ? "accepted" : "rejected";
}

// ------------------------------------------------------------------ Struct, Node, Metadata

function protoCase(rng: Prng, typeName: string, value: () => { json: unknown; expect: unknown }): FuzzCase {
  return mixed(
    rng,
    () => {
      const v = value();
      return { input: encodeJson(typeName, v.json), expect: v.expect };
    },
    protoDictionary,
  );
}

function checkDecoded(c: FuzzCase, result: number, output: Buffer, what: string): Outcome {
  if (result === -1) throw new Finding("oracle", `${what}: the decoder returned a value of the wrong kind`);
  if (c.expect !== undefined) {
    if (result !== 1) throw new Finding("oracle", `${what}: a valid encoding is rejected`);
    sameJson(JSON.parse(utf16(output)), c.expect, `${what}: decoded value differs from what protobufjs encoded`);
  }
  return result === 1 ? "accepted" : "rejected";
}

function checkNode(c: FuzzCase, result: number, output: Buffer): Outcome {
  if (c.expect !== undefined) {
    if (result !== 1) throw new Finding("oracle", "Node: a valid encoding is rejected");
    const [id, cluster, metadata] = utf16(output).split("\0");
    sameJson({ id, cluster, metadata: JSON.parse(metadata!) }, c.expect, "Node: decoded value differs from what protobufjs encoded");
  }
  return result === 1 ? "accepted" : "rejected";
}

/** assembly/codec/struct.ts STRUCT_MAX_DEPTH: deeper Structs are refused on decoding, by design. */
const structMaxDepth = 100;

function checkStructRoundTrip(c: FuzzCase, result: number, output: Buffer): Outcome {
  const text = validUtf8(c.input);
  // Invalid UTF-8 is read with substitutions that JSON.parse does not share: only checked for traps.
  if (text === null) return result === 1 ? "accepted" : "rejected";
  if (result === -1 && depthOf(JSON.parse(text)) >= structMaxDepth) return "rejected";
  if (result === -1) throw new Finding("oracle", "encodeStruct → decodeStruct does not give the object back");
  if (result === 0) return "rejected";
  // Istio reads what the SDK's encoder writes (x-envoy-peer-metadata): protobufjs must agree.
  const expected = JSON.parse(text) as unknown;
  // The SDK writes a lone surrogate (from a "\ud800" escape) as WTF-8 by design (assembly/codec/utf8.ts),
  // which no protobuf decoder reads back as the same string; such values are only checked for traps.
  if (hasLoneSurrogate(expected)) return "accepted";
  const decoded = protoStructToJson(decodeToObject("google.protobuf.Struct", output));
  sameJson(decoded, expected, "protobufjs reads the SDK's Struct encoding differently");
  return "accepted";
}

// ------------------------------------------------------------------ property values and paths

function generateProperty(rng: Prng): FuzzCase {
  const r = rng.float();
  if (r < 0.3) return { input: rng.bytes(rng.pick([0, 1, 1, 2, 7, 8, 8, 8, 9, 16])) };
  if (r < 0.4) return { input: new Uint8Array([rng.pick([0, 1, 2, 0xff])]) };
  return mixed(rng, () => validPairs(rng), pairsDictionary);
}

function checkProperty(c: FuzzCase, accepted: number): Outcome {
  const n = c.input.length;
  const want =
    1 |
    (n === 8 ? 2 | 4 | 8 : 0) |
    (n === 1 && c.input[0]! <= 1 ? 16 : 0) |
    (n === 0 || hostPairCount(c.input) > 0 || isEmptyPairs(c.input) ? 32 | 64 : 0);
  if (accepted !== want) throw new Finding("oracle", `decoders accepting ${n} bytes: got bits ${accepted.toString(2)}, want ${want.toString(2)}`);
  return "accepted";
}

const isEmptyPairs = (b: Uint8Array): boolean => b.length === 4 && b.every((x) => x === 0);

function generatePath(rng: Prng): FuzzCase {
  const segments = Array.from({ length: rng.range(1, 6) }, () => rng.pick(["request", "headers", ":path", "xds", "node", "metadata", "", "é", Buffer.from(rng.bytes(rng.length(12))).toString("latin1")]));
  return mixed(rng, () => ({ input: new Uint8Array(Buffer.from(segments.join("\0") + (rng.chance(0.1) ? "\0" : ""), "utf8")) }), [new Uint8Array([0])]);
}

function checkPath(c: FuzzCase, count: number, output: Buffer): Outcome {
  let bytes = Buffer.from(c.input);
  if (bytes.length && bytes[bytes.length - 1] === 0) bytes = bytes.subarray(0, -1);
  const parts: Buffer[] = [];
  if (c.input.length) {
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) if (i === bytes.length || bytes[i] === 0) parts.push(bytes.subarray(start, i)), (start = i + 1);
  }
  if (count !== parts.length) throw new Finding("oracle", `${parts.length} path segments read as ${count}`);
  if (validUtf8(bytes) !== null && utf16(output) !== parts.map((p) => p.toString("utf8")).join("\0")) throw new Finding("oracle", "path segments decoded differently");
  return "accepted";
}

// ------------------------------------------------------------------ the targets

export const codecTargets: FuzzTarget[] = [
  codecTarget("pairs", "pairs", (rng) => mixed(rng, () => validPairs(rng), pairsDictionary), (c, r) => checkPairCount(c, r)),
  codecTarget("pairs-in-place", "pairsInPlace", (rng) => mixed(rng, () => validPairs(rng), pairsDictionary), (c, r) => checkPairCount(c, r)),
  codecTarget("json", "json", generateJson, checkJson),
  codecTarget("base64", "base64", generateBase64, checkBase64),
  codecTarget(
    "struct",
    "struct",
    (rng) => protoCase(rng, "google.protobuf.Struct", () => ((o) => ({ json: o, expect: o }))(randomObject(rng))),
    (c, r, o) => checkDecoded(c, r, o, "Struct"),
  ),
  codecTarget(
    "struct-value",
    "structValue",
    (rng) => protoCase(rng, "google.protobuf.Value", () => ((v) => ({ json: v, expect: v }))(randomJson(rng))),
    (c, r, o) => checkDecoded(c, r, o, "Value"),
  ),
  codecTarget(
    "list-value",
    "listValue",
    (rng) => protoCase(rng, "google.protobuf.ListValue", () => ((v) => ({ json: v, expect: v }))(Array.from({ length: rng.length(8) }, () => randomJson(rng)))),
    (c, r, o) => checkDecoded(c, r, o, "ListValue"),
  ),
  codecTarget(
    "struct-encode",
    "structRoundTrip",
    (rng) => (rng.chance(0.8) ? { input: utf8(JSON.stringify(randomObject(rng))) } : generateJson(rng)),
    checkStructRoundTrip,
  ),
  codecTarget(
    "node",
    "node",
    (rng) =>
      protoCase(rng, "envoy.config.core.v3.Node", () => {
        const node = { id: rng.pick(["", "sidecar~10.0.0.1~pod.ns~ns.svc.cluster.local", "é"]), cluster: rng.pick(["", "c1"]), metadata: randomObject(rng) };
        return { json: node, expect: node };
      }),
    checkNode,
  ),
  codecTarget(
    "filter-metadata",
    "filterMetadata",
    (rng) =>
      protoCase(rng, "envoy.config.core.v3.Metadata", () => {
        const istio = randomObject(rng);
        return { json: { filter_metadata: { "envoy.lb": randomObject(rng), istio } }, expect: istio };
      }),
    (c, r, o) => checkDecoded(c, r, o, "Metadata filter_metadata[istio]"),
  ),
  codecTarget("property", "property", generateProperty, (c, r) => checkProperty(c, r)),
  codecTarget("path", "path", generatePath, checkPath),
  codecTarget(
    "protobuf",
    "protobuf",
    (rng) => protoCase(rng, "envoy.config.core.v3.Node", () => ({ json: { id: "n", metadata: randomObject(rng) }, expect: undefined })),
    (_c, r) => (r === 1 ? "accepted" : "rejected"),
  ),
];

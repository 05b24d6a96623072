// Properties (proxy_get_property / proxy_set_property): Envoy's attribute tree as the Wasm Context
// resolves it (Context::getProperty/findValue over filters/common/expr/context.cc's wrappers), and
// the serialization of the result (serializeValue). proxy-wasm-abi.md §2.3, §5.2, §5.3, §7.2;
// filters.md §0.
//
// - Path segments are NUL-separated; segments index maps by key, protobuf messages by field name
//   (well-known types unwrap: Struct → map, Value → its value, wrappers → primitives) and lists by
//   decimal index. A missing segment is NotFound.
// - Values serialize as Envoy does: strings/bytes raw, ints 8 bytes LE, bool 1 byte,
//   durations/timestamps int64 ns, messages as protobuf bytes, maps and lists as pairs; a null
//   (e.g. an absent SAN on a TLS connection) is SerializationFailure.
// - request.* header attributes are only reachable while the stream context holds the request
//   headers (inside/paused on request callbacks) and in on_log, exactly like Envoy's activation.
// - Unknown top-level names read filter state `wasm.<name>` (what proxy_set_property wrote).
// - Legacy top-level names (node, cluster_name, ...) only with WasmHostOptions.legacyProperties
//   (Envoy < 1.33); current Envoy answers NotFound.
import protobuf from "protobufjs";
import { encodeJson, lookupType as lookupProtoType } from "../envoy/protos.js";
import { httpToGrpcStatus } from "../http/filter-manager.js";
import type { HeaderMap } from "../http/header-map.js";
import type { Address, ConnectionInfo, StreamInfo, UpstreamInfo } from "../http/stream-info.js";
import type { HostContext } from "./context.js";
import { encodePairs } from "./pairs.js";
import { WasmResult } from "./types.js";
import type { WasmVm } from "./vm.js";

// ---------------------------------------------------------------------------- value model

type CelMap = { t: "map"; get(key: string): Cel | undefined; entries(): Array<[Cel, Cel]> };
type Cel =
  | { t: "string"; b: Uint8Array }
  // A string from the host side, encoded only when it is serialized (most go straight into the VM).
  | { t: "string"; s: string; latin1: boolean }
  | { t: "bytes"; b: Uint8Array }
  | { t: "int"; v: bigint }
  | { t: "uint"; v: bigint }
  | { t: "double"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "duration"; ns: bigint }
  | { t: "timestamp"; ns: bigint }
  | { t: "null" }
  | CelMap
  | { t: "list"; items: Cel[] }
  | { t: "message"; type: protobuf.Type; msg: protobuf.Message; bytes?: Uint8Array };

const str = (s: string, encoding: "utf8" | "latin1" = "utf8"): Cel => ({ t: "string", s, latin1: encoding === "latin1" });
const int = (v: number | bigint): Cel => ({ t: "int", v: BigInt(v) });
const uint = (v: number | bigint): Cel => ({ t: "uint", v: BigInt(v) });
const nul: Cel = { t: "null" };
// Serialized booleans: shared, because the host only ever copies them into the VM.
const trueByte = Uint8Array.of(1);
const falseByte = Uint8Array.of(0);

/**
 * The fields of an attribute map (Envoy's CEL wrappers: RequestWrapper, ResponseWrapper, ...),
 * each computed on demand from the map's source; an undefined value is an absent key. The tables
 * are built once, not per lookup: most host calls of a request look an attribute up.
 */
type Fields<S> = ReadonlyMap<string, (source: S) => Cel | undefined>;
const fields = <S>(table: Record<string, (source: S) => Cel | undefined>): Fields<S> => new Map(Object.entries(table));

/** An attribute map over one source (a class, not closures: one small object per lookup). */
class AttributeMap<S> implements CelMap {
  readonly t = "map";
  constructor(
    private readonly table: Fields<S>,
    private readonly source: S,
  ) {}
  get(k: string): Cel | undefined {
    return this.table.get(k)?.(this.source);
  }
  entries(): Array<[Cel, Cel]> {
    const out: Array<[Cel, Cel]> = [];
    for (const [k, f] of this.table) {
      const v = f(this.source);
      if (v !== undefined) out.push([str(k), v]);
    }
    return out;
  }
}

const attributeMap = <S>(table: Fields<S>, source: S): CelMap => new AttributeMap(table, source);

/** lookupType, memoized: protobufjs walks its namespaces on every lookup, and Struct values ask per field. */
const knownTypes = new Map<string, protobuf.Type>();
function lookupType(name: string): protobuf.Type | undefined {
  let t = knownTypes.get(name);
  if (t === undefined) {
    t = lookupProtoType(name);
    if (t) knownTypes.set(name, t);
  }
  return t;
}

// ---------------------------------------------------------------------------- serialization

/** Envoy serializeValue. */
export function serializeValue(v: Cel): Uint8Array | null {
  switch (v.t) {
    case "string":
      return "s" in v ? Buffer.from(v.s, v.latin1 ? "latin1" : "utf8") : v.b;
    case "bytes":
      return v.b;
    case "int":
    case "uint":
    case "duration":
    case "timestamp": {
      // allocUnsafe: small buffers come from Node's pool (no ArrayBuffer per value); all 8 bytes are written.
      const b = Buffer.allocUnsafe(8);
      const n = v.t === "duration" || v.t === "timestamp" ? v.ns : v.v;
      if (v.t === "uint") b.writeBigUInt64LE(BigInt.asUintN(64, n));
      else b.writeBigInt64LE(BigInt.asIntN(64, n));
      return b;
    }
    case "double": {
      const b = Buffer.allocUnsafe(8);
      b.writeDoubleLE(v.v);
      return b;
    }
    case "bool":
      return v.v ? trueByte : falseByte;
    case "message":
      return v.bytes ?? v.type.encode(v.msg).finish();
    case "map":
    case "list": {
      const pairs: Array<[string, string]> = [];
      const items: Array<[Cel, Cel | null]> = v.t === "map" ? v.entries() : v.items.map((i) => [i, null]);
      for (const [k, val] of items) {
        const kb = serializeValue(k);
        const vb = val === null ? new Uint8Array(0) : serializeValue(val);
        if (!kb || !vb) return null;
        pairs.push([Buffer.from(kb).toString("latin1"), Buffer.from(vb).toString("latin1")]);
      }
      return encodePairs(pairs);
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------- protobuf values

const unsignedTypes = new Set(["uint32", "uint64", "fixed32", "fixed64"]);
const signedTypes = new Set(["int32", "int64", "sint32", "sint64", "sfixed32", "sfixed64"]);

function longToBigInt(v: unknown, unsigned: boolean): bigint {
  if (typeof v === "number") return BigInt(v);
  if (typeof v === "bigint") return v;
  const l = v as { toString(): string; unsigned?: boolean } | null | undefined;
  if (!l) return 0n;
  const n = BigInt(l.toString());
  return unsigned ? BigInt.asUintN(64, n) : n;
}

/** CelProtoWrapper::CreateMessage: unwraps well-known types, otherwise a message value. */
function messageValue(type: protobuf.Type, msg: protobuf.Message | null | undefined, bytes?: Uint8Array): Cel {
  const m = msg ?? type.create();
  const name = type.fullName.replace(/^\./, "");
  const obj = m as unknown as Record<string, unknown>;
  switch (name) {
    case "google.protobuf.Struct": {
      const fields = (obj.fields ?? {}) as Record<string, protobuf.Message>;
      const valueType = lookupType("google.protobuf.Value")!;
      return {
        t: "map",
        get: (k) => (Object.hasOwn(fields, k) ? messageValue(valueType, fields[k]) : undefined),
        entries: () => Object.entries(fields).map(([k, v]) => [str(k), messageValue(valueType, v)]),
      };
    }
    case "google.protobuf.Value": {
      // protobufjs's built-in well-known types use camelCase field names, the Envoy protos
      // (loaded with keepCase) snake_case: accept either. Only own properties are the set oneof
      // member (the prototype carries every member's default).
      const kind = (snake: string, camel: string): unknown =>
        Object.hasOwn(obj, snake) ? obj[snake] : Object.hasOwn(obj, camel) ? obj[camel] : undefined;
      const number = kind("number_value", "numberValue");
      const string = kind("string_value", "stringValue");
      const boolean = kind("bool_value", "boolValue");
      const struct = kind("struct_value", "structValue");
      const list = kind("list_value", "listValue");
      if (kind("null_value", "nullValue") !== undefined) return nul;
      if (typeof number === "number") return { t: "double", v: number };
      if (typeof string === "string") return str(string);
      if (typeof boolean === "boolean") return { t: "bool", v: boolean };
      if (struct) return messageValue(lookupType("google.protobuf.Struct")!, struct as protobuf.Message);
      if (list) return messageValue(lookupType("google.protobuf.ListValue")!, list as protobuf.Message);
      return nul;
    }
    case "google.protobuf.ListValue": {
      const valueType = lookupType("google.protobuf.Value")!;
      return { t: "list", items: ((obj.values ?? []) as protobuf.Message[]).map((v) => messageValue(valueType, v)) };
    }
    case "google.protobuf.Timestamp":
      return { t: "timestamp", ns: longToBigInt(obj.seconds, false) * 1_000_000_000n + BigInt((obj.nanos as number) ?? 0) };
    case "google.protobuf.Duration":
      return { t: "duration", ns: longToBigInt(obj.seconds, false) * 1_000_000_000n + BigInt((obj.nanos as number) ?? 0) };
    case "google.protobuf.StringValue":
      return str((obj.value as string) ?? "");
    case "google.protobuf.BytesValue":
      return { t: "bytes", b: (obj.value as Uint8Array) ?? new Uint8Array(0) };
    case "google.protobuf.BoolValue":
      return { t: "bool", v: Boolean(obj.value) };
    case "google.protobuf.DoubleValue":
    case "google.protobuf.FloatValue":
      return { t: "double", v: Number(obj.value ?? 0) };
    case "google.protobuf.Int32Value":
    case "google.protobuf.Int64Value":
      return int(longToBigInt(obj.value ?? 0, false));
    case "google.protobuf.UInt32Value":
    case "google.protobuf.UInt64Value":
      return uint(longToBigInt(obj.value ?? 0, true));
  }
  return { t: "message", type, msg: m, ...(bytes ? { bytes } : {}) };
}

function fieldValue(field: protobuf.Field, v: unknown): Cel {
  field.resolve();
  if (field.resolvedType instanceof protobuf.Type) return messageValue(field.resolvedType, v as protobuf.Message | undefined);
  if (field.resolvedType instanceof protobuf.Enum) return int((v as number) ?? 0);
  switch (field.type) {
    case "string":
      return str((v as string) ?? "");
    case "bytes":
      return { t: "bytes", b: (v as Uint8Array) ?? new Uint8Array(0) };
    case "bool":
      return { t: "bool", v: Boolean(v) };
    case "double":
    case "float":
      return { t: "double", v: Number(v ?? 0) };
  }
  if (unsignedTypes.has(field.type)) return uint(longToBigInt(v ?? 0, true));
  if (signedTypes.has(field.type)) return int(longToBigInt(v ?? 0, false));
  return nul;
}

/** CEL field access on a message: map fields → map, repeated → list, single → value. */
function messageField(type: protobuf.Type, msg: protobuf.Message, name: string): Cel | undefined {
  const field = type.fields[name];
  if (!field) return undefined;
  const v = (msg as unknown as Record<string, unknown>)[name];
  if (field instanceof protobuf.MapField) {
    const entries = (v ?? {}) as Record<string, unknown>;
    return {
      t: "map",
      get: (k) => (Object.hasOwn(entries, k) ? fieldValue(field, entries[k]) : undefined),
      entries: () => Object.entries(entries).map(([k, x]) => [str(k), fieldValue(field, x)]),
    };
  }
  if (field.repeated) return { t: "list", items: ((v ?? []) as unknown[]).map((x) => fieldValue(field, x)) };
  return fieldValue(field, v);
}

function protoFromJson(typeName: string, json: unknown): Cel {
  const type = lookupType(typeName)!;
  const bytes = encodeJson(typeName, json);
  return messageValue(type, type.decode(bytes), bytes);
}

/**
 * protoFromJson for values read on every request (route, cluster, host, listener metadata: the
 * config's, so the same few JSON documents over and over). Keyed by the JSON text, so a caller
 * that mutates its object still gets the current value; values are never mutated after creation.
 */
const protoCache = new Map<string, Cel>();
const protoCacheLimit = 256;
function cachedProtoFromJson(typeName: string, json: unknown): Cel {
  const key = `${typeName}\0${JSON.stringify(json)}`;
  let v = protoCache.get(key);
  if (v === undefined) {
    v = protoFromJson(typeName, json);
    if (protoCache.size >= protoCacheLimit) protoCache.clear();
    protoCache.set(key, v);
  }
  return v;
}

const metadataType = "envoy.config.core.v3.Metadata";
/** Absent metadata reads as an empty Metadata message (the common case: nothing configured). */
let emptyMetadata: Cel | undefined;
const metadataValue = (json: Record<string, unknown> | undefined): Cel =>
  json === undefined ? (emptyMetadata ??= protoFromJson(metadataType, {})) : cachedProtoFromJson(metadataType, json);

// ---------------------------------------------------------------------------- attributes

const formatAddress = (a: Address): string => (a.ip.includes(":") ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`);

/** HeadersWrapper: lookups return every value joined with "," (GetAllOfHeaderAsString). */
function headersMap(headers: HeaderMap | null | undefined): CelMap {
  return {
    t: "map",
    get: (k) => {
      const all = headers?.getAll(k.toLowerCase()) ?? [];
      return all.length ? str(all.join(","), "latin1") : undefined;
    },
    entries: () => {
      const seen = new Set<string>();
      const out: Array<[Cel, Cel]> = [];
      for (const [k] of headers ?? []) {
        if (seen.has(k)) continue;
        seen.add(k);
        out.push([str(k, "latin1"), str(headers!.getAll(k).join(","), "latin1")]);
      }
      return out;
    },
  };
}

interface RequestSource {
  info: StreamInfo;
  headers: HeaderMap | null;
  protocol: string | undefined;
}

const header =
  (name: string) =>
  (s: { headers: HeaderMap | null }): Cel | undefined => {
    const v = s.headers?.get(name);
    return v === undefined ? undefined : str(v, "latin1");
  };

const requestFields = fields<RequestSource>({
  headers: (s) => headersMap(s.headers),
  time: (s) => ({ t: "timestamp", ns: s.info.startTimeNs }),
  size: (s) => {
    const cl = s.headers?.get("content-length");
    if (cl !== undefined && /^-?\d+$/.test(cl)) return int(BigInt(cl));
    return int(s.info.bytesReceived);
  },
  total_size: (s) => int(s.info.bytesReceived + (s.headers?.byteSize() ?? 0)),
  duration: (s) => (s.info.completeMonotonicNs === undefined ? undefined : { t: "duration", ns: s.info.completeMonotonicNs - s.info.startMonotonicNs }),
  protocol: (s) => (s.protocol === undefined ? undefined : str(s.protocol)),
  path: header(":path"),
  url_path: (s) => {
    const p = s.headers?.get(":path");
    return p === undefined ? undefined : str(p.split("?")[0]!, "latin1");
  },
  host: header(":authority"),
  scheme: header(":scheme"),
  method: header(":method"),
  referer: header("referer"),
  id: header("x-request-id"),
  useragent: header("user-agent"),
  query: (s) => {
    const p = s.headers?.get(":path");
    if (p === undefined) return undefined;
    const q = p.indexOf("?");
    return str(q < 0 ? "" : p.slice(q + 1).split("#")[0]!, "latin1");
  },
});


function grpcStatusOf(info: StreamInfo, headers: HeaderMap | null, trailers: HeaderMap | null): number | undefined {
  for (const m of [trailers, headers]) {
    const v = m?.get("grpc-status");
    if (v !== undefined && /^\d+$/.test(v)) return Number(v);
  }
  return info.responseCode === undefined ? undefined : httpToGrpcStatus(info.responseCode);
}

interface ResponseSource {
  info: StreamInfo;
  headers: HeaderMap | null;
  trailers: HeaderMap | null;
}

const responseFields = fields<ResponseSource>({
  code: (s) => (s.info.responseCode === undefined ? undefined : int(s.info.responseCode)),
  size: (s) => int(s.info.bytesSent),
  headers: (s) => headersMap(s.headers),
  trailers: (s) => headersMap(s.trailers),
  flags: (s) => int(s.info.responseFlags),
  grpc_status: (s) => {
    const status = grpcStatusOf(s.info, s.headers, s.trailers);
    return status === undefined ? undefined : int(status);
  },
  total_size: (s) => int(s.info.bytesSent + (s.headers?.byteSize() ?? 0) + (s.trailers?.byteSize() ?? 0)),
  code_details: (s) => (s.info.responseCodeDetails === undefined ? undefined : str(s.info.responseCodeDetails)),
  backend_latency: ({ info }) =>
    info.upstreamLastByteMonotonicNs !== undefined && info.upstreamRequestSentMonotonicNs !== undefined
      ? { t: "duration", ns: info.upstreamLastByteMonotonicNs - info.upstreamRequestSentMonotonicNs }
      : undefined,
});


const orNull = (v: string | undefined): Cel => (v ? str(v) : nul);

// SSL attributes exist only on TLS connections; an absent SAN/digest is a CEL null.
const sslField =
  (f: (c: ConnectionInfo) => Cel) =>
  (info: StreamInfo): Cel | undefined =>
    info.connection.tlsVersion !== undefined || info.connection.mtls ? f(info.connection) : undefined;

const connectionFields = fields<StreamInfo>({
  mtls: (i) => ({ t: "bool", v: i.connection.mtls }),
  requested_server_name: (i) => str(i.connection.requestedServerName ?? ""),
  id: (i) => uint(i.connection.id),
  termination_details: (i) => (i.connection.terminationDetails === undefined ? undefined : str(i.connection.terminationDetails)),
  transport_failure_reason: (i) => (i.connection.transportFailureReason ? str(i.connection.transportFailureReason) : undefined),
  tls_version: sslField((c) => str(c.tlsVersion ?? "")),
  subject_local_certificate: sslField((c) => str(c.subjectLocalCertificate ?? "")),
  subject_peer_certificate: sslField((c) => str(c.subjectPeerCertificate ?? "")),
  uri_san_local_certificate: sslField((c) => orNull(c.uriSanLocalCertificate)),
  uri_san_peer_certificate: sslField((c) => orNull(c.uriSanPeerCertificate)),
  dns_san_local_certificate: sslField((c) => orNull(c.dnsSanLocalCertificate)),
  dns_san_peer_certificate: sslField((c) => orNull(c.dnsSanPeerCertificate)),
  sha256_peer_certificate_digest: sslField((c) => orNull(c.sha256PeerCertificateDigest)),
});


// Upstream attributes need an upstream host; the TLS ones also a TLS upstream connection.
const upstreamSsl = (u: UpstreamInfo): boolean => u.address !== undefined && u.tlsVersion !== undefined;

const upstreamFields = fields<UpstreamInfo>({
  address: (u) => (u.address ? str(formatAddress(u.address)) : undefined),
  port: (u) => (u.address ? int(u.address.port) : undefined),
  local_address: (u) => (u.address !== undefined && u.localAddress ? str(formatAddress(u.localAddress)) : undefined),
  transport_failure_reason: (u) => (u.address !== undefined ? str(u.transportFailureReason ?? "") : undefined),
  request_attempt_count: (u) => uint(u.requestAttemptCount),
  tls_version: (u) => (upstreamSsl(u) ? str(u.tlsVersion!) : undefined),
  uri_san_local_certificate: (u) => (upstreamSsl(u) ? orNull(u.uriSanLocalCertificate) : undefined),
  uri_san_peer_certificate: (u) => (upstreamSsl(u) ? orNull(u.uriSanPeerCertificate) : undefined),
});


const peerFields = fields<Address>({ address: (a) => str(formatAddress(a)), port: (a) => int(a.port) });

/**
 * CelState::exprValue (Envoy filters/common/expr/cel_state.cc): string-typed state reads as a
 * string, the rest as bytes — except a Protobuf-typed state (declare_property with a type URL)
 * that is not the last path segment: that is the message (CelProtoWrapper over an Any), so
 * ["downstream_peer", "NAME"] reaches into a declared Struct while ["downstream_peer"] reads the
 * bytes. Envoy's filter_state map always asks with last = false.
 */
function filterStateValue(v: { bytes: Uint8Array; type: string; schema?: string }, last = true): Cel {
  if (v.type === "protobuf" && !last) return protobufStateValue(v.bytes, v.schema ?? "");
  return v.type === "string" ? { t: "string", b: v.bytes } : { t: "bytes", b: v.bytes };
}

/** The message a type URL names; a CEL error (null here) if the type is unknown or the bytes do not parse. */
function protobufStateValue(bytes: Uint8Array, typeUrl: string): Cel {
  const type = lookupType(typeUrl.slice(typeUrl.lastIndexOf("/") + 1));
  if (!type) return nul;
  try {
    return messageValue(type, type.decode(bytes), bytes);
  } catch {
    return nul;
  }
}

function filterStateMap(info: StreamInfo): CelMap {
  return {
    t: "map",
    get: (k) => {
      const v = info.filterState.get(k);
      return v ? filterStateValue(v, false) : undefined;
    },
    entries: () => [...info.filterState].map(([k, v]) => [str(k, "latin1"), filterStateValue(v, false)]),
  };
}

function nodeValue(ctx: HostContext): Cel | undefined {
  const server = ctx.plugin?.server;
  if (!server) return undefined;
  const n = server.node;
  return protoFromJson("envoy.config.core.v3.Node", {
    id: n.id,
    cluster: n.cluster,
    metadata: n.metadata,
    ...(n.locality ? { locality: n.locality } : {}),
  });
}

interface XdsSource {
  ctx: HostContext;
  info: StreamInfo | null;
}

const withInfo =
  (f: (i: StreamInfo) => Cel | undefined) =>
  (s: XdsSource): Cel | undefined =>
    s.info ? f(s.info) : undefined;

/** XDSWrapper (plus the virtual host attributes of recent Envoy). */
const xdsFields = fields<XdsSource>({
  node: (s) => nodeValue(s.ctx),
  cluster_name: withInfo((i) => (i.clusterName === undefined ? undefined : str(i.clusterName))),
  cluster_metadata: withInfo((i) => (i.clusterName === undefined ? undefined : metadataValue(i.clusterMetadata))),
  route_name: withInfo((i) => (i.routeName === undefined ? undefined : str(i.routeName))),
  route_metadata: withInfo((i) => (i.routeName === undefined ? undefined : metadataValue(i.routeMetadata))),
  virtual_host_name: withInfo((i) => (i.virtualHostName === undefined ? undefined : str(i.virtualHostName))),
  virtual_host_metadata: withInfo((i) => (i.virtualHostName === undefined ? undefined : metadataValue(i.virtualHostMetadata))),
  upstream_host_metadata: withInfo((i) => (i.upstream.address === undefined ? undefined : metadataValue(i.upstream.hostMetadata))),
  filter_chain_name: withInfo((i) => str(i.filterChainName ?? "")),
  listener_metadata: withInfo((i) => metadataValue(i.listenerMetadata)),
  listener_direction: withInfo((i) => int(i.listenerDirection)),
});

/**
 * The top-level names whose value is an attribute map, with where their fields read from
 * (undefined: the group does not exist here, e.g. request.* outside a stream).
 */
interface AttributeGroup {
  fields: Fields<never>;
  source(ctx: HostContext, info: StreamInfo | null): unknown;
}
const group = <S>(table: Fields<S>, source: (ctx: HostContext, info: StreamInfo | null) => S | undefined): AttributeGroup => ({
  fields: table as Fields<never>,
  source,
});
const attributeGroups: ReadonlyMap<string, AttributeGroup> = new Map([
  ["xds", group(xdsFields, (ctx, info) => ({ ctx, info }))],
  ["request", group(requestFields, (ctx, info) => (info ? { info, headers: ctx.attributeRequestHeaders(), protocol: ctx.attributeProtocol() } : undefined))],
  ["response", group(responseFields, (ctx, info) => (info ? { info, headers: ctx.attributeResponseHeaders(), trailers: ctx.attributeResponseTrailers() } : undefined))],
  ["connection", group(connectionFields, (_, info) => info ?? undefined)],
  ["upstream", group(upstreamFields, (_, info) => info?.upstream)],
  ["source", group(peerFields, (_, info) => info?.connection.source)],
  ["destination", group(peerFields, (_, info) => info?.connection.destination)],
]);

/** Top-level names removed in Envoy 1.33 (PR #36619), and what they used to read. */
const legacyNames: Record<string, string> = {
  node: "node",
  cluster_name: "cluster_name",
  cluster_metadata: "cluster_metadata",
  listener_direction: "listener_direction",
  listener_metadata: "listener_metadata",
  route_name: "route_name",
  route_metadata: "route_metadata",
  upstream_host_metadata: "upstream_host_metadata",
};

/** Envoy Context::findValue for the first path segment. */
function findValue(vm: WasmVm, ctx: HostContext, name: string, last: boolean): Cel | undefined {
  const info = ctx.streamInfo();
  const attributes = attributeGroups.get(name);
  if (attributes) {
    const source = attributes.source(ctx, info);
    return source === undefined ? undefined : attributeMap(attributes.fields, source as never);
  }
  switch (name) {
    case "metadata":
      return info ? metadataValue(info.dynamicMetadata) : undefined;
    case "filter_state":
      return info ? filterStateMap(info) : undefined;
    case "plugin_name":
      return ctx.plugin ? str(ctx.plugin.name) : undefined;
    case "plugin_root_id":
      return str(ctx.plugin?.rootId ?? "");
    case "plugin_vm_id":
      return str(vm.integration.vmId);
    case "connection_id":
      return info ? uint(info.connection.id) : undefined;
  }
  if (ctx.plugin?.options.legacyProperties && Object.hasOwn(legacyNames, name)) {
    const v = xdsFields.get(legacyNames[name]!)!({ ctx, info });
    if (v !== undefined) return v;
  }
  // Anything else: filter state written by proxy_set_property.
  const state = info?.filterState.get(`wasm.${name}`);
  return state ? filterStateValue(state, last) : undefined;
}

/** Envoy Context::getProperty: walks the NUL-separated path and serializes the value. */
export function getProperty(vm: WasmVm, ctx: HostContext, path: Uint8Array | string): { status: WasmResult; value?: Uint8Array } {
  const found = findProperty(vm, ctx, typeof path === "string" ? path : Buffer.from(path).toString("latin1"));
  if (typeof found === "number") return { status: found };
  const bytes = serializeValue(found);
  return bytes ? { status: WasmResult.Ok, value: bytes } : { status: WasmResult.SerializationFailure };
}

/** The value at `path` (its bytes as a latin1 string), or why there is none. */
function findProperty(vm: WasmVm, ctx: HostContext, path: string): Cel | WasmResult.NotFound | WasmResult.SerializationFailure {
  if (path.length === 0) return WasmResult.SerializationFailure;
  const { segments, names, group, field } = parsePath(path);
  let value: Cel | undefined;
  let i = 0;
  if (group) {
    // <group>.<field>: the field read straight from its source, without the map in between.
    const source = group.source(ctx, ctx.streamInfo());
    value = source === undefined || field === undefined ? undefined : field(source as never);
    if (value === undefined) return WasmResult.NotFound;
    i = 2;
  }
  for (; i < segments.length; i++) {
    const part = segments[i]!;
    if (i === 0) value = findValue(vm, ctx, names[i]!, segments.length === 1);
    else if (value!.t === "map") value = value!.get(names[i]!);
    else if (value!.t === "message") value = messageField(value!.type, value!.msg, part);
    else if (value!.t === "list") value = /^\d+$/.test(part) ? value!.items[Number(part)] : undefined;
    else value = undefined;
    if (value === undefined) return WasmResult.NotFound;
  }
  return value!;
}

/** Path segments are UTF-8 bytes held as latin1; only non-ASCII ones need decoding. */
const latin1ToUtf8 = (s: string): string => (nonAscii.test(s) ? Buffer.from(s, "latin1").toString("utf8") : s);
const nonAscii = /[^\x00-\x7f]/;

/**
 * A path split at NULs (a trailing NUL ends the path, it does not add an empty segment): the raw
 * segments (message fields and list indices match them as bytes) and their UTF-8 decoding (names
 * and map keys). Modules read the same few paths on every request, so parses are kept.
 */
interface ParsedPath {
  segments: string[];
  names: string[];
  /** For <group>.<field> paths (most reads): the group, and the field (undefined: no such field). */
  group?: AttributeGroup;
  field?: (source: never) => Cel | undefined;
}
const parsedPaths = new Map<string, ParsedPath>();
const parsedPathsLimit = 1024;
function parsePath(path: string): ParsedPath {
  let parsed = parsedPaths.get(path);
  if (parsed === undefined) {
    const segments = path.split("\0");
    if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
    const names = segments.map(latin1ToUtf8);
    const group = segments.length > 1 ? attributeGroups.get(names[0]!) : undefined;
    parsed = group ? { segments, names, group, field: group.fields.get(names[1]!) } : { segments, names };
    if (parsedPaths.size >= parsedPathsLimit) parsedPaths.clear();
    parsedPaths.set(path, parsed);
  }
  return parsed;
}

/**
 * proxy_get_property's result: getProperty, with the common value kinds (strings, integers,
 * booleans) written straight into the VM's block instead of through a serialized copy.
 */
export function copyPropertyToVm(vm: WasmVm, ctx: HostContext, path: string, ptrPtr: number, sizePtr: number): WasmResult {
  const found = findProperty(vm, ctx, path);
  if (typeof found === "number") return found;
  let copied: boolean;
  switch (found.t) {
    case "string":
      copied = "s" in found ? vm.copyStringToPointerSize(found.s, found.latin1 ? "latin1" : "utf8", ptrPtr, sizePtr) : vm.copyToPointerSize(found.b, ptrPtr, sizePtr);
      break;
    case "int":
    case "uint":
      copied = vm.copyU64ToPointerSize(found.v, ptrPtr, sizePtr);
      break;
    case "duration":
    case "timestamp":
      copied = vm.copyU64ToPointerSize(found.ns, ptrPtr, sizePtr);
      break;
    default: {
      const bytes = serializeValue(found);
      if (!bytes) return WasmResult.SerializationFailure;
      copied = vm.copyToPointerSize(bytes, ptrPtr, sizePtr);
    }
  }
  return copied ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
}

/**
 * Envoy Context::setProperty: stores the bytes as filter state `wasm.<path>` on the stream, typed
 * by a declare_property prototype of the root context; read-only state can be set only once.
 */
export function setProperty(ctx: HostContext, path: Uint8Array, value: Uint8Array): WasmResult {
  const info = ctx.streamInfo();
  if (!info) return WasmResult.NotFound;
  const name = Buffer.from(path).toString("latin1");
  const key = `wasm.${name}`;
  const existing = info.filterState.get(key);
  if (existing) {
    if (existing.readOnly) return WasmResult.BadArgument;
    existing.bytes = Uint8Array.from(value);
    return WasmResult.Ok;
  }
  const prototype = ctx.rootContext()?.statePrototypes.get(name);
  info.filterState.set(key, {
    bytes: Uint8Array.from(value),
    type: prototype?.type ?? "bytes",
    readOnly: prototype?.readOnly ?? false,
    ...(prototype?.schema ? { schema: prototype.schema } : {}),
  });
  return WasmResult.Ok;
}

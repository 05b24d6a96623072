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
import { encodeJson, lookupType } from "../envoy/protos.js";
import { httpToGrpcStatus } from "../http/filter-manager.js";
import type { HeaderMap } from "../http/header-map.js";
import type { Address, StreamInfo } from "../http/stream-info.js";
import type { HostContext } from "./context.js";
import { encodePairs } from "./pairs.js";
import { WasmResult } from "./types.js";
import type { WasmVm } from "./vm.js";

// ---------------------------------------------------------------------------- value model

type CelMap = { t: "map"; get(key: string): Cel | undefined; entries(): Array<[Cel, Cel]> };
type Cel =
  | { t: "string"; b: Uint8Array }
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

const str = (s: string, encoding: BufferEncoding = "utf8"): Cel => ({ t: "string", b: Buffer.from(s, encoding) });
const int = (v: number | bigint): Cel => ({ t: "int", v: BigInt(v) });
const uint = (v: number | bigint): Cel => ({ t: "uint", v: BigInt(v) });
const nul: Cel = { t: "null" };

/** A map whose values are computed on demand; `undefined` values are absent keys. */
function lazyMap(fields: Record<string, () => Cel | undefined>): CelMap {
  return {
    t: "map",
    get: (k) => (Object.hasOwn(fields, k) ? fields[k]!() : undefined),
    entries: () => {
      const out: Array<[Cel, Cel]> = [];
      for (const [k, f] of Object.entries(fields)) {
        const v = f();
        if (v !== undefined) out.push([str(k), v]);
      }
      return out;
    },
  };
}

// ---------------------------------------------------------------------------- serialization

/** Envoy serializeValue. */
export function serializeValue(v: Cel): Uint8Array | null {
  switch (v.t) {
    case "string":
    case "bytes":
      return v.b;
    case "int":
    case "uint":
    case "duration":
    case "timestamp": {
      const b = Buffer.alloc(8);
      const n = v.t === "duration" || v.t === "timestamp" ? v.ns : v.v;
      if (v.t === "uint") b.writeBigUInt64LE(BigInt.asUintN(64, n));
      else b.writeBigInt64LE(BigInt.asIntN(64, n));
      return b;
    }
    case "double": {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(v.v);
      return b;
    }
    case "bool":
      return Uint8Array.of(v.v ? 1 : 0);
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

const metadataValue = (json: Record<string, unknown> | undefined): Cel => protoFromJson("envoy.config.core.v3.Metadata", json ?? {});

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

function requestAttributes(info: StreamInfo, headers: HeaderMap | null): CelMap {
  const header = (name: string) => (): Cel | undefined => {
    const v = headers?.get(name);
    return v === undefined ? undefined : str(v, "latin1");
  };
  const path = (): string | undefined => headers?.get(":path");
  return lazyMap({
    headers: () => headersMap(headers),
    time: () => ({ t: "timestamp", ns: info.startTimeNs }),
    size: () => {
      const cl = headers?.get("content-length");
      if (cl !== undefined && /^-?\d+$/.test(cl)) return int(BigInt(cl));
      return int(info.bytesReceived);
    },
    total_size: () => int(info.bytesReceived + (headers?.byteSize() ?? 0)),
    duration: () => (info.completeMonotonicNs === undefined ? undefined : { t: "duration", ns: info.completeMonotonicNs - info.startMonotonicNs }),
    protocol: () => str(info.protocol),
    path: header(":path"),
    url_path: () => {
      const p = path();
      return p === undefined ? undefined : str(p.split("?")[0]!, "latin1");
    },
    host: header(":authority"),
    scheme: header(":scheme"),
    method: header(":method"),
    referer: header("referer"),
    id: header("x-request-id"),
    useragent: header("user-agent"),
    query: () => {
      const p = path();
      if (p === undefined) return undefined;
      const q = p.indexOf("?");
      return str(q < 0 ? "" : p.slice(q + 1).split("#")[0]!, "latin1");
    },
  });
}

function grpcStatusOf(info: StreamInfo, headers: HeaderMap | null, trailers: HeaderMap | null): number | undefined {
  for (const m of [trailers, headers]) {
    const v = m?.get("grpc-status");
    if (v !== undefined && /^\d+$/.test(v)) return Number(v);
  }
  return info.responseCode === undefined ? undefined : httpToGrpcStatus(info.responseCode);
}

function responseAttributes(info: StreamInfo, headers: HeaderMap | null, trailers: HeaderMap | null): CelMap {
  return lazyMap({
    code: () => (info.responseCode === undefined ? undefined : int(info.responseCode)),
    size: () => int(info.bytesSent),
    headers: () => headersMap(headers),
    trailers: () => headersMap(trailers),
    flags: () => int(info.responseFlags),
    grpc_status: () => {
      const s = grpcStatusOf(info, headers, trailers);
      return s === undefined ? undefined : int(s);
    },
    total_size: () => int(info.bytesSent + (headers?.byteSize() ?? 0) + (trailers?.byteSize() ?? 0)),
    code_details: () => (info.responseCodeDetails === undefined ? undefined : str(info.responseCodeDetails)),
    backend_latency: () =>
      info.upstreamLastByteMonotonicNs !== undefined && info.upstreamRequestSentMonotonicNs !== undefined
        ? { t: "duration", ns: info.upstreamLastByteMonotonicNs - info.upstreamRequestSentMonotonicNs }
        : undefined,
  });
}

function connectionAttributes(info: StreamInfo): CelMap {
  const c = info.connection;
  // SSL attributes exist only on TLS connections; an absent SAN/digest is a CEL null.
  const ssl = c.tlsVersion !== undefined || c.mtls;
  const sslField = (f: () => Cel) => (): Cel | undefined => (ssl ? f() : undefined);
  const orNull = (v: string | undefined): Cel => (v ? str(v) : nul);
  return lazyMap({
    mtls: () => ({ t: "bool", v: c.mtls }),
    requested_server_name: () => str(c.requestedServerName ?? ""),
    id: () => uint(c.id),
    termination_details: () => (c.terminationDetails === undefined ? undefined : str(c.terminationDetails)),
    transport_failure_reason: () => (c.transportFailureReason ? str(c.transportFailureReason) : undefined),
    tls_version: sslField(() => str(c.tlsVersion ?? "")),
    subject_local_certificate: sslField(() => str(c.subjectLocalCertificate ?? "")),
    subject_peer_certificate: sslField(() => str(c.subjectPeerCertificate ?? "")),
    uri_san_local_certificate: sslField(() => orNull(c.uriSanLocalCertificate)),
    uri_san_peer_certificate: sslField(() => orNull(c.uriSanPeerCertificate)),
    dns_san_local_certificate: sslField(() => orNull(c.dnsSanLocalCertificate)),
    dns_san_peer_certificate: sslField(() => orNull(c.dnsSanPeerCertificate)),
    sha256_peer_certificate_digest: sslField(() => orNull(c.sha256PeerCertificateDigest)),
  });
}

function upstreamAttributes(info: StreamInfo): CelMap {
  const u = info.upstream;
  const present = u.address !== undefined;
  const ssl = present && u.tlsVersion !== undefined;
  const orNull = (v: string | undefined): Cel => (v ? str(v) : nul);
  return lazyMap({
    address: () => (u.address ? str(formatAddress(u.address)) : undefined),
    port: () => (u.address ? int(u.address.port) : undefined),
    local_address: () => (present && u.localAddress ? str(formatAddress(u.localAddress)) : undefined),
    transport_failure_reason: () => (present ? str(u.transportFailureReason ?? "") : undefined),
    request_attempt_count: () => uint(u.requestAttemptCount),
    tls_version: () => (ssl ? str(u.tlsVersion!) : undefined),
    uri_san_local_certificate: () => (ssl ? orNull(u.uriSanLocalCertificate) : undefined),
    uri_san_peer_certificate: () => (ssl ? orNull(u.uriSanPeerCertificate) : undefined),
  });
}

const peerAttributes = (a: Address): CelMap => lazyMap({ address: () => str(formatAddress(a)), port: () => int(a.port) });

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

/** XDSWrapper (plus the virtual host attributes of recent Envoy). */
function xdsAttributes(ctx: HostContext, info: StreamInfo | null): Record<string, () => Cel | undefined> {
  const withInfo = (f: (i: StreamInfo) => Cel | undefined) => (): Cel | undefined => (info ? f(info) : undefined);
  return {
    node: () => nodeValue(ctx),
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
  };
}

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
  switch (name) {
    case "xds":
      return lazyMap(xdsAttributes(ctx, info));
    case "request":
      return info ? requestAttributes(info, ctx.attributeRequestHeaders()) : undefined;
    case "response":
      return info ? responseAttributes(info, ctx.attributeResponseHeaders(), ctx.attributeResponseTrailers()) : undefined;
    case "connection":
      return info ? connectionAttributes(info) : undefined;
    case "upstream":
      return info ? upstreamAttributes(info) : undefined;
    case "source":
      return info ? peerAttributes(info.connection.source) : undefined;
    case "destination":
      return info ? peerAttributes(info.connection.destination) : undefined;
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
    const v = xdsAttributes(ctx, info)[legacyNames[name]!]!();
    if (v !== undefined) return v;
  }
  // Anything else: filter state written by proxy_set_property.
  const state = info?.filterState.get(`wasm.${name}`);
  return state ? filterStateValue(state, last) : undefined;
}

/** Envoy Context::getProperty: walks the NUL-separated path and serializes the value. */
export function getProperty(vm: WasmVm, ctx: HostContext, path: Uint8Array): { status: WasmResult; value?: Uint8Array } {
  const segments = Buffer.from(path).toString("latin1").split("\0");
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  if (path.length === 0) return { status: WasmResult.SerializationFailure };
  let value: Cel | undefined;
  for (let i = 0; i < segments.length; i++) {
    const part = segments[i]!;
    if (i === 0) value = findValue(vm, ctx, Buffer.from(part, "latin1").toString("utf8"), segments.length === 1);
    else if (value!.t === "map") value = value!.get(Buffer.from(part, "latin1").toString("utf8"));
    else if (value!.t === "message") value = messageField(value!.type, value!.msg, part);
    else if (value!.t === "list") value = /^\d+$/.test(part) ? value!.items[Number(part)] : undefined;
    else value = undefined;
    if (value === undefined) return { status: WasmResult.NotFound };
  }
  const bytes = serializeValue(value!);
  return bytes ? { status: WasmResult.Ok, value: bytes } : { status: WasmResult.SerializationFailure };
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

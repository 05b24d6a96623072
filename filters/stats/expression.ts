// The subset of CEL that users write in Istio stats dimensions and metric values, parsed once at
// configure time (filters.md §2.2 "Custom dimensions", §2.5). There is no CEL interpreter: only
// these forms are accepted, anything else is a configure-time error naming the expression.
//
//   literals          'text' "text" 42 true false
//   attributes        request.host  request.headers['x-foo']  response.code  connection.mtls
//                     upstream.address  source.port  xds.cluster_name  plugin_name ...
//                     (the typed attributes of proxy-wasm-abi.md §7.2, listed in ATTRIBUTES)
//   filter state      filter_state['wasm.istio_operationId']
//   local node        node.id  node.cluster  node.metadata['CLUSTER_ID']  (evaluated once)
//   peer fields       downstream_peer.cluster_id  upstream_peer.workload_name  *.labels['app']
//
// The top-level names Envoy 1.33 removed (cluster_name, route_name, listener_direction, node) are
// read as the xds.* attributes they became (filters.md §0). Message-typed attributes (metadata,
// locality) are not supported. Pure code: the host reads happen in evaluate.ts.
import { JsonType, JsonValue, NodeInfo } from "proxy-wasm-as";
import { splitOn } from "./labels";

/** What an expression yields. */
export enum ValueType {
  String = 0,
  Int = 1,
  Uint = 2,
  Bool = 3,
  /** Known only at run time: a Struct value (a peer field, node metadata). */
  Dynamic = 4,
  /** Durations and timestamps: Istio prints them as text, which no dimension or amount wants. */
  Time = 5,
}

export enum ExpressionKind {
  /** Known at configure time (literals, node.*): `constant` / `amount`. */
  Constant = 0,
  /** One typed property read at `path`. */
  Attribute = 1,
  /** The peer Struct in filter state `path[0]` (downstream_peer / upstream_peer), then `keys`. */
  Peer = 2,
}

export class Expression {
  /** Why the expression was refused; "" if it parsed. */
  error: string = "";
  text: string = "";
  kind: ExpressionKind = ExpressionKind.Constant;
  type: ValueType = ValueType.String;
  /** Constant: the value as a label; null if it could not be evaluated (reported as `unknown`). */
  constant: string | null = null;
  /** Constant: the value as a metric amount, -1 if it is not a non-negative integer. */
  amount: i64 = -1;
  path: string[] = [];
  keys: string[] = [];
}

/** What constants and attribute names resolve against. */
export class ExpressionContext {
  constructor(
    /** The local node (xds.node) for node.* constants; null if the host has none. */
    public node: NodeInfo | null,
    /** True on Envoys older than 1.29, which have no xds.* attributes (only the legacy names). */
    public legacyXds: bool = false,
  ) {}
}

// Attributes by root; each group of names ends with ":" and its type: s string, i int, u uint,
// b bool, T duration/timestamp, h header map (needs a key), n node. Root "." = top-level names.
const ATTRIBUTES =
  "|request path url_path host scheme method referer useragent id protocol query:s headers:h size total_size" +
  " headers_bytes:i time duration:T" +
  "|response code flags grpc_status size total_size headers_bytes:i code_details:s headers trailers:h" +
  " backend_latency:T" +
  "|connection id:u mtls:b requested_server_name tls_version subject_local_certificate subject_peer_certificate" +
  " dns_san_local_certificate dns_san_peer_certificate uri_san_local_certificate uri_san_peer_certificate" +
  " sha256_peer_certificate_digest termination_details transport_failure_reason:s" +
  "|upstream address local_address tls_version transport_failure_reason subject_local_certificate" +
  " subject_peer_certificate dns_san_local_certificate dns_san_peer_certificate uri_san_local_certificate" +
  " uri_san_peer_certificate sha256_peer_certificate_digest:s port num_endpoints:i request_attempt_count:u" +
  " cx_pool_ready_duration:T" +
  "|source address:s port:i|destination address:s port:i" +
  "|xds cluster_name route_name virtual_host_name filter_chain_name:s listener_direction:i node:n" +
  "|. plugin_name plugin_root_id plugin_vm_id:s connection_id:u|";

/** The names removed in Envoy 1.33 (PR #36619) in favour of xds.<same name>. */
const LEGACY_XDS = " cluster_name route_name listener_direction node cluster_metadata route_metadata listener_metadata upstream_host_metadata ";

// Peer field → Struct keys ("|" between nested keys). Wasm-era FlatNode names (workload_name,
// cluster_id, ...) and the names of Istio's newer peer object (workload, cluster, app, ...).
const PEER_FIELDS =
  " name=NAME namespace=NAMESPACE owner=OWNER workload_name=WORKLOAD_NAME workload=WORKLOAD_NAME" +
  " istio_version=ISTIO_VERSION mesh_id=MESH_ID cluster_id=CLUSTER_ID cluster=CLUSTER_ID" +
  " app_containers=APP_CONTAINERS app=LABELS|app version=LABELS|version" +
  " service=LABELS|service.istio.io/canonical-name revision=LABELS|service.istio.io/canonical-revision" +
  " labels=LABELS| platform_metadata=PLATFORM_METADATA| ";

/** The type letter of `<root>.<name>` in ATTRIBUTES (root "." for top-level names), or 0. */
function attributeType(root: string, name: string): i32 {
  const begin = ATTRIBUTES.indexOf("|" + root + " ");
  if (begin < 0) return 0;
  const end = ATTRIBUTES.indexOf("|", begin + 1);
  const key = " " + name;
  for (let at = ATTRIBUTES.indexOf(key, begin); at >= 0 && at < end; at = ATTRIBUTES.indexOf(key, at + 1)) {
    const after = ATTRIBUTES.charCodeAt(at + key.length);
    if (after == 0x20 || after == 0x3a) return ATTRIBUTES.charCodeAt(ATTRIBUTES.indexOf(":", at) + 1);
  }
  return 0;
}

function isLegacyXdsName(name: string): bool {
  return LEGACY_XDS.includes(" " + name + " ");
}

/** The property path of `xds.<name>`: under xds, or the legacy top-level name on old Envoys. */
export function xdsPath(name: string, context: ExpressionContext): string[] {
  return context.legacyXds && isLegacyXdsName(name) ? [name] : ["xds", name];
}

// ---- JSON (Struct) values ----

/** Walks object members by key from `from`; null if a key is missing or a value is not an object. */
export function walkJson(value: JsonValue | null, keys: string[], from: i32 = 0): JsonValue | null {
  let v = value;
  for (let i = from, n = keys.length; i < n && v !== null; i++) v = v.type == JsonType.Object ? v.get(unchecked(keys[i])) : null;
  return v;
}

/** An integral number as decimal text, or null (non-integral numbers are not rendered). */
function integralText(n: f64): string | null {
  return n == Math.trunc(n) && Math.abs(n) < 9.0e15 ? (<i64>n).toString() : null;
}

/**
 * A Struct value as a label value: strings as they are, booleans and integral numbers as text;
 * null (→ `unknown`) for anything else, including numbers with a fraction.
 */
export function renderJson(v: JsonValue | null): string | null {
  if (v === null) return null;
  if (v.type == JsonType.String) return v.asString();
  if (v.type == JsonType.Bool) return v.asBool() ? "true" : "false";
  return v.type == JsonType.Number ? integralText(v.asNumber()) : null;
}

/** A Struct value as a metric amount, as Istio reads one (print, then parse an unsigned integer); -1 if none. */
export function jsonToAmount(v: JsonValue | null): i64 {
  if (v === null) return -1;
  if (v.type == JsonType.Number) {
    const n = v.asNumber();
    return n >= 0 && n == Math.trunc(n) && n < 9.0e15 ? <i64>n : -1;
  }
  return v.type == JsonType.String ? parseAmount(v.asString()) : -1;
}

/** A decimal unsigned integer of at most 18 digits, or -1. */
export function parseAmount(s: string): i64 {
  const n = s.length;
  if (n == 0 || n > 18) return -1;
  let v: i64 = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (<u32>c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** ASCII lower case (Envoy header names are lower-cased ASCII; no Unicode tables needed). */
export function asciiLower(s: string): string {
  let out = s;
  for (let i = 0, n = s.length; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) {
      const codes = new Array<i32>(n);
      for (let j = 0; j < n; j++) {
        const d = s.charCodeAt(j);
        unchecked((codes[j] = d >= 0x41 && d <= 0x5a ? d + 32 : d));
      }
      out = String.fromCharCodes(codes);
      break;
    }
  }
  return out;
}

// ---- parsing ----

let splitError = "";

function isNameChar(c: i32, first: bool): bool {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c == 0x5f || (!first && c >= 0x30 && c <= 0x39);
}

/** `a.b['c'][0]` → ["a", "b", "c", "0"]; null (splitError set) if it is not such a path. */
function splitPath(text: string): string[] | null {
  const out = new Array<string>();
  const n = text.length;
  let i = 0;
  let wantName = true;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (wantName) {
      let j = i;
      while (j < n && isNameChar(text.charCodeAt(j), j == i)) j++;
      if (j == i) break;
      out.push(text.substring(i, j));
      i = j;
      wantName = false;
    } else if (c == 0x2e) {
      i++;
      wantName = true;
    } else if (c == 0x5b) {
      const q = text.charCodeAt(i + 1);
      const quoted = q == 0x27 || q == 0x22;
      const close = quoted ? text.indexOf(String.fromCharCode(q) + "]", i + 2) : text.indexOf("]", i + 1);
      if (close < 0) break;
      const index = quoted ? text.substring(i + 2, close) : text.substring(i + 1, close);
      if (!quoted && parseAmount(index) < 0) break;
      out.push(index);
      i = close + (quoted ? 2 : 1);
    } else {
      break;
    }
  }
  if (i < n || wantName) {
    splitError = i < n ? "unexpected '" + text.charAt(i) + "' at offset " + i.toString() +
      " (only literals and attribute paths; no operators or functions)" : "incomplete path";
    return null;
  }
  return out;
}

class Builder {
  e: Expression = new Expression();
  constructor(text: string, public segments: string[]) {
    this.e.text = text;
  }

  refuse(why: string): Expression {
    this.e.error = "unsupported expression \"" + this.e.text + "\": " + why;
    return this.e;
  }

  make(kind: ExpressionKind, type: ValueType, path: string[]): Expression {
    const e = this.e;
    e.kind = kind;
    e.type = type;
    e.path = path;
    return e;
  }

  constant(type: ValueType, value: string | null, amount: i64): Expression {
    const e = this.make(ExpressionKind.Constant, type, []);
    e.constant = value;
    e.amount = amount;
    return e;
  }

  node(from: i32, node: NodeInfo | null): Expression {
    const s = this.segments;
    const field = from < s.length ? unchecked(s[from]) : "";
    if (field == "id" || field == "cluster") {
      if (s.length != from + 1) return this.refuse("node." + field + " has no fields");
      const value: string | null = node === null ? null : field == "id" ? node.id : node.cluster;
      return this.constant(ValueType.String, value, value === null ? -1 : parseAmount(value));
    }
    if (field != "metadata" || s.length == from + 1) return this.refuse("use node.id, node.cluster or node.metadata['KEY']");
    const v: JsonValue | null = node === null ? null : walkJson(node.metadata, s, from + 1);
    return this.constant(ValueType.Dynamic, renderJson(v), jsonToAmount(v));
  }

  peer(): Expression {
    const s = this.segments;
    const field = s.length > 1 ? unchecked(s[1]) : "";
    const at = PEER_FIELDS.indexOf(" " + field + "=");
    if (field.length == 0 || at < 0) return this.refuse("unknown peer field (see the README)");
    const from = at + field.length + 2;
    const keys = splitOn(PEER_FIELDS.substring(from, PEER_FIELDS.indexOf(" ", from)), "|");
    const mapped = unchecked(keys[keys.length - 1]).length == 0;
    if (s.length != (mapped ? 3 : 2)) return this.refuse(mapped ? field + " needs one key, e.g. " + field + "['app']" : field + " has no fields");
    if (mapped) unchecked((keys[keys.length - 1] = unchecked(s[2])));
    const e = this.make(ExpressionKind.Peer, ValueType.Dynamic, [unchecked(s[0])]);
    e.keys = keys;
    return e;
  }
}

/** Parses a dimension or value expression (surrounding whitespace ignored); check `error`. */
export function parseExpression(source: string, context: ExpressionContext): Expression {
  const text = source.trim();
  const b = new Builder(text, []);
  const n = text.length;
  if (n == 0) return b.refuse("empty");
  const first = text.charCodeAt(0);
  if (first == 0x27 || first == 0x22) {
    if (n < 2 || text.charCodeAt(n - 1) != first || text.indexOf(text.charAt(0), 1) != n - 1 || text.includes("\\")) {
      return b.refuse("a string literal is quoted once and has no escapes");
    }
    const value = text.substring(1, n - 1);
    return b.constant(ValueType.String, value, parseAmount(value));
  }
  if (first >= 0x30 && first <= 0x39) {
    const amount = parseAmount(text);
    return amount < 0 ? b.refuse("not an integer") : b.constant(ValueType.Int, text, amount);
  }
  if (text == "true" || text == "false") return b.constant(ValueType.Bool, text, -1);

  splitError = "";
  const s = splitPath(text);
  if (s === null) return b.refuse(splitError);
  b.segments = s;
  const count = s.length;
  let root = unchecked(s[0]);
  let next = 1;
  if (root == "downstream_peer" || root == "upstream_peer") return b.peer();
  if (root == "node") return b.node(1, context.node);
  if (root == "filter_state") {
    return count == 2 ? b.make(ExpressionKind.Attribute, ValueType.String, s) : b.refuse("use filter_state['<key>']");
  }
  if (isLegacyXdsName(root)) {
    root = "xds";
    next = 0; // the legacy name is the xds attribute name
  } else if (root != "xds" && count == 1) {
    root = "."; // plugin_name, connection_id, ...
    next = 0;
  }
  if (count <= next) return b.refuse("incomplete attribute");
  const name = unchecked(s[next]);
  const type = attributeType(root, name);
  if (type == 0) return b.refuse("unknown attribute");
  const rest = count - next - 1;
  const path = root == "xds" ? xdsPath(name, context) : root == "." ? [name] : [root, name];
  switch (type) {
    case 0x6e: return b.node(next + 1, context.node); // n
    case 0x68: { // h: Envoy's header maps are keyed in lower case (HeadersWrapper uses LowerCaseString)
      if (rest != 1) return b.refuse(name + " needs one header name, e.g. " + name + "['x-foo']");
      path.push(asciiLower(unchecked(s[next + 1])));
      return b.make(ExpressionKind.Attribute, ValueType.String, path);
    }
  }
  if (rest != 0) return b.refuse(name + " has no fields");
  const t = type == 0x69 ? ValueType.Int : type == 0x75 ? ValueType.Uint : type == 0x62 ? ValueType.Bool : type == 0x54 ? ValueType.Time : ValueType.String;
  return b.make(ExpressionKind.Attribute, t, path);
}

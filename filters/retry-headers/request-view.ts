// The request attributes rules match on, read from the host on first use and kept as raw bytes
// for the rest of onRequestHeaders: a request that no rule asks about the host for costs no host
// call, and nothing is decoded to a string. One view per root context, reset per request (the
// callbacks of different streams never interleave inside onRequestHeaders).
import { MapType, getHeaderMapValueBytes, getRouteNameBytes } from "proxy-wasm-as";
import { isGrpcContentType } from "./envoy-values";

const PATH: ArrayBuffer = String.UTF8.encode(":path");
const METHOD: ArrayBuffer = String.UTF8.encode(":method");
const AUTHORITY: ArrayBuffer = String.UTF8.encode(":authority");
const CONTENT_TYPE: ArrayBuffer = String.UTF8.encode("content-type");
const CONTENT_LENGTH: ArrayBuffer = String.UTF8.encode("content-length");

const F_PATH: i32 = 1;
const F_METHOD: i32 = 2;
const F_AUTHORITY: i32 = 4;
const F_GRPC: i32 = 8;
const F_ROUTE: i32 = 16;

export function requestHeaderBytes(name: ArrayBuffer): ArrayBuffer | null {
  return getHeaderMapValueBytes(MapType.HttpRequestHeaders, name);
}

export class RequestView {
  private fetched: i32 = 0;
  private pathBytes: ArrayBuffer | null = null;
  private pathEnd: i32 = 0;
  private methodBytes: ArrayBuffer | null = null;
  private authorityBytes: ArrayBuffer | null = null;
  private grpc: bool = false;
  private routeNameBytes: ArrayBuffer | null = null;

  reset(): void {
    this.fetched = 0;
    this.pathBytes = null;
    this.methodBytes = null;
    this.authorityBytes = null;
    this.routeNameBytes = null;
  }

  /** :path as sent, query included (Envoy's prefix match sees it whole). */
  get path(): ArrayBuffer | null {
    if ((this.fetched & F_PATH) == 0) {
      this.fetched |= F_PATH;
      const path = requestHeaderBytes(PATH);
      this.pathBytes = path;
      this.pathEnd = path === null ? 0 : pathLengthWithoutQuery(path);
    }
    return this.pathBytes;
  }

  /** Length of :path before '?' or '#' (Envoy's exact and regex path matches ignore the query). */
  get pathLengthWithoutQuery(): i32 {
    this.path;
    return this.pathEnd;
  }

  get method(): ArrayBuffer | null {
    if ((this.fetched & F_METHOD) == 0) {
      this.fetched |= F_METHOD;
      this.methodBytes = requestHeaderBytes(METHOD);
    }
    return this.methodBytes;
  }

  get authority(): ArrayBuffer | null {
    if ((this.fetched & F_AUTHORITY) == 0) {
      this.fetched |= F_AUTHORITY;
      this.authorityBytes = requestHeaderBytes(AUTHORITY);
    }
    return this.authorityBytes;
  }

  /** gRPC as Envoy's router decides it: by content-type (Grpc::Common::isGrpcRequestHeaders). */
  get isGrpc(): bool {
    if ((this.fetched & F_GRPC) == 0) {
      this.fetched |= F_GRPC;
      this.grpc = isGrpcContentType(requestHeaderBytes(CONTENT_TYPE));
    }
    return this.grpc;
  }

  /** xds.route_name (legacy route_name on Envoy < 1.33); null if the route has no name. */
  get routeName(): ArrayBuffer | null {
    if ((this.fetched & F_ROUTE) == 0) {
      this.fetched |= F_ROUTE;
      this.routeNameBytes = getRouteNameBytes();
    }
    return this.routeNameBytes;
  }

  /** content-length as a number; -1 if absent or not a plain decimal. Not cached: read at most once. */
  contentLength(): i64 {
    const bytes = requestHeaderBytes(CONTENT_LENGTH);
    if (bytes === null || bytes.byteLength == 0 || bytes.byteLength > 18) return -1;
    let n: i64 = 0;
    const p = changetype<usize>(bytes);
    for (let i = 0; i < bytes.byteLength; i++) {
      const c = <i32>load<u8>(p + <usize>i);
      if (c < 0x30 || c > 0x39) return -1;
      n = n * 10 + (c - 0x30);
    }
    return n;
  }
}

function pathLengthWithoutQuery(path: ArrayBuffer): i32 {
  const p = changetype<usize>(path);
  const n = path.byteLength;
  for (let i = 0; i < n; i++) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x3f || c == 0x23) return i;
  }
  return n;
}

// RequestView over the host, for the request in onRequestHeaders: each attribute is fetched at
// most once per request and only if a rule asks for it. One instance per VM is reused for every
// request (callbacks of a VM never interleave).
import {
  IpAddress, MapType, WasmResult, getHeaderMapValueBytes, getProperty, getPropertyUint64Or, getRouteNameBytes, lastWasmResult,
  parseSocketAddressRaw,
} from "proxy-wasm-as";
import { addressFromXff } from "./xff";
import { RequestView } from "./request-view";

const PATH = String.UTF8.encode(":path");
const METHOD = String.UTF8.encode(":method");
const AUTHORITY = String.UTF8.encode(":authority");
const CONTENT_TYPE = String.UTF8.encode("content-type");
const X_FORWARDED_FOR = String.UTF8.encode("x-forwarded-for");
const SOURCE_ADDRESS = ["source", "address"];
const CONNECTION_ID = ["connection", "id"];

const enum Fetched {
  Path = 1,
  Method = 2,
  Host = 4,
  Source = 8,
  Route = 16,
}

export class RequestAttributes implements RequestView {
  private fetched: i32 = 0;
  private pathValue: ArrayBuffer | null = null;
  private pathEnd: i32 = 0;
  private methodValue: ArrayBuffer | null = null;
  private hostValue: ArrayBuffer | null = null;
  private routeValue: ArrayBuffer | null = null;
  private readonly source: IpAddress = new IpAddress();
  private sourceKnown: bool = false;

  /**
   * `xffNumTrustedHops` < 0: the client is `source.address` (Envoy's connection manager already
   * applied its own use_remote_address / xff_num_trusted_hops to it). Otherwise the client is the
   * x-forwarded-for entry that many hops from the right, as Envoy's xff_num_trusted_hops picks it.
   */
  constructor(private readonly xffNumTrustedHops: i64) {}

  /** Forgets the previous request's values. */
  reset(): void {
    this.fetched = 0;
    this.pathValue = null;
    this.methodValue = null;
    this.hostValue = null;
    this.routeValue = null;
  }

  header(name: ArrayBuffer): ArrayBuffer | null {
    return getHeaderMapValueBytes(MapType.HttpRequestHeaders, name);
  }

  path(): ArrayBuffer | null {
    if ((this.fetched & Fetched.Path) == 0) {
      this.fetched |= Fetched.Path;
      const p = getHeaderMapValueBytes(MapType.HttpRequestHeaders, PATH);
      this.pathValue = p;
      let end = 0;
      if (p !== null) {
        const ptr = changetype<usize>(p);
        const n = p.byteLength;
        while (end < n && load<u8>(ptr + <usize>end) != 0x3f) end++;
      }
      this.pathEnd = end;
    }
    return this.pathValue;
  }

  pathLength(): i32 {
    this.path();
    return this.pathEnd;
  }

  method(): ArrayBuffer | null {
    if ((this.fetched & Fetched.Method) == 0) {
      this.fetched |= Fetched.Method;
      this.methodValue = getHeaderMapValueBytes(MapType.HttpRequestHeaders, METHOD);
    }
    return this.methodValue;
  }

  host(): ArrayBuffer | null {
    if ((this.fetched & Fetched.Host) == 0) {
      this.fetched |= Fetched.Host;
      this.hostValue = getHeaderMapValueBytes(MapType.HttpRequestHeaders, AUTHORITY);
    }
    return this.hostValue;
  }

  sourceAddress(): IpAddress | null {
    if ((this.fetched & Fetched.Source) == 0) {
      this.fetched |= Fetched.Source;
      this.sourceKnown = this.findSource();
    }
    return this.sourceKnown ? this.source : null;
  }

  private findSource(): bool {
    if (this.xffNumTrustedHops >= 0) {
      const xff = getHeaderMapValueBytes(MapType.HttpRequestHeaders, X_FORWARDED_FOR);
      // Without a usable x-forwarded-for entry Envoy keeps the connection's peer address.
      if (xff !== null && addressFromXff(xff, <u32>this.xffNumTrustedHops, this.source)) return true;
    }
    const address = getProperty(SOURCE_ADDRESS);
    return address !== null && parseSocketAddressRaw(changetype<usize>(address), address.byteLength, this.source);
  }

  routeName(): ArrayBuffer | null {
    if ((this.fetched & Fetched.Route) == 0) {
      this.fetched |= Fetched.Route;
      this.routeValue = getRouteNameBytes();
    }
    return this.routeValue;
  }

  /** `connection.id` (per-connection buckets); -1 if the host has none. */
  connectionId(): i64 {
    const id = getPropertyUint64Or(CONNECTION_ID, 0);
    return lastWasmResult() == WasmResult.Ok ? <i64>id : -1;
  }

  /**
   * True for gRPC requests, as Envoy's Grpc::Common::hasGrpcContentType decides: content-type
   * exactly "application/grpc" or starting with "application/grpc+" (not grpc-web).
   */
  isGrpc(): bool {
    const ct = getHeaderMapValueBytes(MapType.HttpRequestHeaders, CONTENT_TYPE);
    if (ct === null || ct.byteLength < 16) return false;
    const p = changetype<usize>(ct);
    if (memory.compare(p, changetype<usize>(GRPC_CONTENT_TYPE), 16) != 0) return false;
    if (ct.byteLength == 16) return true;
    return load<u8>(p + 16) == 0x2b;
  }
}

const GRPC_CONTENT_TYPE = String.UTF8.encode("application/grpc");

// What rule matching and key templates read from a request. The filter implements it over the
// host (request-attributes.ts, fetching each attribute at most once per request); unit tests
// implement it with fixed values. Values are raw bytes: nothing is decoded to text per request.
import { IpAddress } from "proxy-wasm-as";

export interface RequestView {
  /** First value of a request header (lower-case name, UTF-8 bytes), null if absent. */
  header(name: ArrayBuffer): ArrayBuffer | null;
  /** The whole `:path` header, query string included; null if absent. */
  path(): ArrayBuffer | null;
  /** How many bytes of path() come before the "?" of the query string (rules ignore the query). */
  pathLength(): i32;
  /** `:method`. */
  method(): ArrayBuffer | null;
  /** `:authority`. */
  host(): ArrayBuffer | null;
  /** The client address (source.address, or the trusted x-forwarded-for hop); null if unknown. */
  sourceAddress(): IpAddress | null;
  /** The name of the route Envoy selected (xds.route_name); null if none. */
  routeName(): ArrayBuffer | null;
}

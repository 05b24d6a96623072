// The `match` block of a rule: every condition that is set must hold (a list holds if any entry
// does). Byte comparisons against values encoded at configure time; nothing is decoded per request.
// Pure code: no host imports.
import { CidrSet } from "proxy-wasm-as";
import { RequestView } from "./request-view";

export const enum HeaderMatchKind {
  Exact,
  Prefix,
  Present,
}

/** Envoy's HeaderMatcher subset: string_match exact/prefix, present_match, invert_match. */
export class HeaderMatcher {
  /** Lower-case header name, UTF-8. */
  name: ArrayBuffer = new ArrayBuffer(0);
  kind: HeaderMatchKind = HeaderMatchKind.Present;
  value: ArrayBuffer = new ArrayBuffer(0);
  /** present_match's value when kind is Present. */
  present: bool = true;
  invert: bool = false;

  /**
   * Envoy HeaderUtility::matchHeaders: an absent header only satisfies present_match (false, or
   * true when inverted); a present one is matched, then the result inverted if asked. Envoy
   * matches the comma-joined values of a repeated header; the ABI gives the first value only.
   */
  matches(request: RequestView): bool {
    const v = request.header(this.name);
    if (v === null) return this.kind == HeaderMatchKind.Present && this.present == this.invert;
    let result = this.present;
    if (this.kind == HeaderMatchKind.Exact) result = equalBytes(v, v.byteLength, this.value);
    else if (this.kind == HeaderMatchKind.Prefix) result = hasPrefix(v, v.byteLength, this.value);
    return result != this.invert;
  }
}

export class RequestMatcher {
  /** Exact path (no query string), or null. */
  path: ArrayBuffer | null = null;
  /** Path prefix (no query string), or null. */
  prefix: ArrayBuffer | null = null;
  methods: ArrayBuffer[] = [];
  /** Lower-case host names. */
  hosts: ArrayBuffer[] = [];
  headers: HeaderMatcher[] = [];
  sourceCidrs: CidrSet = new CidrSet();
  routeNames: ArrayBuffer[] = [];

  matches(request: RequestView): bool {
    const path = this.path;
    const prefix = this.prefix;
    if (path !== null || prefix !== null) {
      const p = request.path();
      if (p === null) return false;
      const n = request.pathLength();
      if (path !== null && !equalBytes(p, n, path)) return false;
      if (prefix !== null && !hasPrefix(p, n, prefix)) return false;
    }
    if (this.methods.length > 0 && !anyEqual(request.method(), this.methods)) return false;
    if (this.hosts.length > 0 && !matchesHost(request.host(), this.hosts)) return false;
    const headers = this.headers;
    for (let i = 0, n = headers.length; i < n; i++) if (!unchecked(headers[i]).matches(request)) return false;
    if (this.sourceCidrs.size > 0 && !this.matchesSource(request)) return false;
    if (this.routeNames.length > 0 && !anyEqual(request.routeName(), this.routeNames)) return false;
    return true;
  }

  private matchesSource(request: RequestView): bool {
    const ip = request.sourceAddress();
    return ip !== null && this.sourceCidrs.containsAddress(ip);
  }
}

function anyEqual(value: ArrayBuffer | null, candidates: ArrayBuffer[]): bool {
  if (value === null) return false;
  for (let i = 0, n = candidates.length; i < n; i++) {
    if (equalBytes(value, value.byteLength, unchecked(candidates[i]))) return true;
  }
  return false;
}

/**
 * `:authority` against lower-case host names, ignoring ASCII case and an optional ":port" (so
 * "API.example.com:8080" matches "api.example.com").
 */
function matchesHost(authority: ArrayBuffer | null, hosts: ArrayBuffer[]): bool {
  if (authority === null) return false;
  const full = authority.byteLength;
  const hostLength = lengthWithoutPort(authority);
  for (let i = 0, n = hosts.length; i < n; i++) {
    const h = unchecked(hosts[i]);
    if (equalIgnoringCase(authority, full, h) || (hostLength != full && equalIgnoringCase(authority, hostLength, h))) return true;
  }
  return false;
}

/** Length of the host part of "host:port", "[v6]:port" or "host" (a bare IPv6 has no port). */
function lengthWithoutPort(authority: ArrayBuffer): i32 {
  const p = changetype<usize>(authority);
  const n = authority.byteLength;
  let i = n - 1;
  while (i >= 0 && load<u8>(p + <usize>i) >= 0x30 && load<u8>(p + <usize>i) <= 0x39) i--;
  if (i < 0 || i == n - 1 || load<u8>(p + <usize>i) != 0x3a) return n;
  // "x:y:80" without brackets is a bare IPv6 address, not a port.
  if (i > 0 && load<u8>(p + <usize>(i - 1)) != 0x5d) {
    for (let j = 0; j < i; j++) if (load<u8>(p + <usize>j) == 0x3a) return n;
  }
  return i;
}

function equalIgnoringCase(a: ArrayBuffer, length: i32, lowerB: ArrayBuffer): bool {
  if (length != lowerB.byteLength) return false;
  const pa = changetype<usize>(a);
  const pb = changetype<usize>(lowerB);
  for (let i = 0; i < length; i++) {
    let c = <u32>load<u8>(pa + <usize>i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c != <u32>load<u8>(pb + <usize>i)) return false;
  }
  return true;
}

/** The first `length` bytes of `a` equal `b`. */
export function equalBytes(a: ArrayBuffer, length: i32, b: ArrayBuffer): bool {
  return length == b.byteLength && memory.compare(changetype<usize>(a), changetype<usize>(b), <usize>length) == 0;
}

/** The first `length` bytes of `a` start with `prefix`. */
export function hasPrefix(a: ArrayBuffer, length: i32, prefix: ArrayBuffer): bool {
  const n = prefix.byteLength;
  return n <= length && memory.compare(changetype<usize>(a), changetype<usize>(prefix), <usize>n) == 0;
}

// A rule: which requests it applies to (route name, host, path, methods, headers, gRPC) and the
// router headers it sets, pre-encoded at configure time so a matching request costs only the
// host calls that set them. Conditions are AND-ed; an empty match applies to every request.
import { Regex } from "proxy-wasm-as";
import { RequestView, requestHeaderBytes } from "./request-view";

export function sameBytes(a: ArrayBuffer, b: ArrayBuffer): bool {
  const n = a.byteLength;
  return n == b.byteLength && memory.compare(changetype<usize>(a), changetype<usize>(b), n) == 0;
}

/** True if the first `prefix.byteLength` bytes of `value` are `prefix`. */
function startsWithBytes(value: ArrayBuffer, prefix: ArrayBuffer): bool {
  const n = prefix.byteLength;
  return value.byteLength >= n && memory.compare(changetype<usize>(value), changetype<usize>(prefix), n) == 0;
}

function lowerAscii(c: u32): u32 {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

/** Case-insensitive compare of host bytes [at, at+len) with a lower-case pattern. */
function equalsIgnoreCase(host: usize, len: i32, pattern: ArrayBuffer): bool {
  if (len != pattern.byteLength) return false;
  const p = changetype<usize>(pattern);
  for (let i = 0; i < len; i++) {
    if (lowerAscii(load<u8>(host + <usize>i)) != <u32>load<u8>(p + <usize>i)) return false;
  }
  return true;
}

export const HOST_ANY: i32 = 0;
export const HOST_EXACT: i32 = 1;
/** "*.example.com", "*-api.example.com": the host ends with the text after '*' (plus at least one character). */
export const HOST_SUFFIX: i32 = 2;
/** "api.*": the host starts with the text before '*' (plus at least one character). */
export const HOST_PREFIX: i32 = 3;

/** A virtual-host style domain (Envoy VirtualHost.domains semantics), compared case-insensitively. */
export class HostPattern {
  constructor(
    public readonly kind: i32,
    /** Lower-case text without the '*'. */
    public readonly text: ArrayBuffer,
    /** The pattern names a port, so it is compared with the whole :authority. */
    public readonly withPort: bool,
  ) {}

  matches(authority: ArrayBuffer): bool {
    if (this.kind == HOST_ANY) return true;
    const host = changetype<usize>(authority);
    const len = this.withPort ? authority.byteLength : hostLengthWithoutPort(authority);
    const n = this.text.byteLength;
    if (this.kind == HOST_EXACT) return equalsIgnoreCase(host, len, this.text);
    if (len <= n) return false;
    return this.kind == HOST_SUFFIX
      ? equalsIgnoreCase(host + <usize>(len - n), n, this.text)
      : equalsIgnoreCase(host, n, this.text);
  }
}

/** Length of the host part of an :authority ("a.b:80" → 3, "[::1]:80" → 5). */
function hostLengthWithoutPort(authority: ArrayBuffer): i32 {
  const p = changetype<usize>(authority);
  const n = authority.byteLength;
  for (let i = n - 1; i >= 0; i--) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x3a) return i;
    if (c == 0x5d || c < 0x30 || c > 0x39) return n;
  }
  return n;
}

/** A request header that must be present (optionally with an exact value) or absent. */
export class HeaderCondition {
  constructor(
    public readonly name: ArrayBuffer,
    public readonly present: bool,
    public readonly exact: ArrayBuffer | null,
  ) {}

  matches(): bool {
    const value = requestHeaderBytes(this.name);
    if (value === null) return !this.present;
    if (!this.present) return false;
    const exact = this.exact;
    return exact === null || sameBytes(value, exact);
  }
}

export const PATH_ANY: i32 = 0;
export const PATH_PREFIX: i32 = 1;
export const PATH_EXACT: i32 = 2;
export const PATH_REGEX: i32 = 3;

/** Tri-state for the gRPC condition. */
export const GRPC_ANY: i32 = -1;

export class RuleMatch {
  routeName: ArrayBuffer | null = null;
  hosts: HostPattern[] | null = null;
  pathKind: i32 = PATH_ANY;
  path: ArrayBuffer | null = null;
  pathRegex: Regex | null = null;
  methods: ArrayBuffer[] | null = null;
  headers: HeaderCondition[] | null = null;
  /** GRPC_ANY, 1 only gRPC requests, 0 only other requests. */
  grpc: i32 = GRPC_ANY;

  /** Cheapest conditions first; each reads only what it needs from the view. */
  matches(view: RequestView): bool {
    const routeName = this.routeName;
    if (routeName !== null) {
      const actual = view.routeName;
      if (actual === null || !sameBytes(actual, routeName)) return false;
    }
    const methods = this.methods;
    if (methods !== null && !matchesAny(methods, view.method)) return false;
    if (this.grpc != GRPC_ANY && view.isGrpc != (this.grpc == 1)) return false;
    if (this.pathKind != PATH_ANY && !this.matchesPath(view)) return false;
    const hosts = this.hosts;
    if (hosts !== null && !matchesHost(hosts, view.authority)) return false;
    const headers = this.headers;
    if (headers !== null) {
      for (let i = 0, n = headers.length; i < n; i++) if (!unchecked(headers[i]).matches()) return false;
    }
    return true;
  }

  private matchesPath(view: RequestView): bool {
    const path = view.path;
    if (path === null) return false;
    const kind = this.pathKind;
    // Envoy route matching: prefix on the whole :path, exact and safe_regex on the path without
    // query and fragment; regexes must match all of it (RE2::FullMatch).
    if (kind == PATH_PREFIX) return startsWithBytes(path, this.path!);
    const len = view.pathLengthWithoutQuery;
    if (kind == PATH_EXACT) {
      const exact = this.path!;
      return len == exact.byteLength && memory.compare(changetype<usize>(path), changetype<usize>(exact), len) == 0;
    }
    return this.pathRegex!.fullMatchRaw(changetype<usize>(path), len);
  }
}

/** True if `value` is one of `list` (byte equality). */
export function matchesAny(list: ArrayBuffer[], value: ArrayBuffer | null): bool {
  if (value === null) return false;
  for (let i = 0, n = list.length; i < n; i++) if (sameBytes(unchecked(list[i]), value)) return true;
  return false;
}

function matchesHost(hosts: HostPattern[], authority: ArrayBuffer | null): bool {
  if (authority === null) return false;
  for (let i = 0, n = hosts.length; i < n; i++) if (unchecked(hosts[i]).matches(authority)) return true;
  return false;
}

/** The retry headers a rule sets for one class of request, encoded once. null = not set. */
export class RetryHeaderSet {
  retryOn: ArrayBuffer | null = null;
  retryGrpcOn: ArrayBuffer | null = null;
  maxRetries: ArrayBuffer | null = null;
  retriableStatusCodes: ArrayBuffer | null = null;
  retriableHeaderNames: ArrayBuffer | null = null;
  hedgeOnPerTryTimeout: ArrayBuffer | null = null;
}

export class Rule {
  match: RuleMatch = new RuleMatch();
  /** For idempotent requests (method, idempotency key, or the rule allows any). */
  idempotent: RetryHeaderSet = new RetryHeaderSet();
  /** For other requests: only the conditions safe to retry whatever the method. */
  nonIdempotent: RetryHeaderSet = new RetryHeaderSet();
  /** Requests whose body is too large to be buffered for a retry get no retry headers. */
  none: RetryHeaderSet = new RetryHeaderSet();
  /** -1 = not set by the rule. */
  timeoutMs: i64 = -1;
  timeout: ArrayBuffer | null = null;
  perTryTimeoutMs: i64 = -1;
  perTryTimeout: ArrayBuffer | null = null;

  constructor(public readonly name: string) {}
}

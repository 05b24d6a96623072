// What the client sent of the router's control headers (envoy-values.ts CONTROL_HEADERS). Headers
// an HTTP filter leaves in place reach the router whoever sent them: Envoy's own sanitizing runs
// in the connection manager before the filters and only for requests it deems external
// (filters.md §3.2), so this filter is the policy point. Untrusted clients lose them all; trusted
// clients keep the ones whose values the router would accept, with counts and timeouts lowered to
// the configured caps.
import {
  MapType, getHeaderMapValuesBytes, getProperty, removeHeaderMapValue, removeHeaderMapValueBytes, replaceHeaderMapValue,
} from "proxy-wasm-as";
import { RetryHeadersConfig } from "./config";
import {
  CONTROL_HEADERS, Control, RETRY_GRPC_ON_TOKENS, RETRY_ON_TOKENS, indexOfToken, isToken, lowerAscii, parseUnsigned, splitList,
} from "./envoy-values";
import { requestHeaderBytes } from "./request-view";

const CONTROL_HEADER_BYTES: ArrayBuffer[] = CONTROL_HEADERS.map<ArrayBuffer>((name: string): ArrayBuffer => String.UTF8.encode(name));
/** What the request carries of each control header (null: absent), filled by readControlHeaders. */
const controlValues = new Array<ArrayBuffer | null>(CONTROL_HEADERS.length);

/**
 * Reads every control header of the request at once: clients rarely send any, and one pairs read
 * costs a single host call where a lookup per name would cost ten. Returns how many are present.
 */
function readControlHeaders(): i32 {
  return getHeaderMapValuesBytes(MapType.HttpRequestHeaders, CONTROL_HEADER_BYTES, controlValues);
}
const SOURCE_ADDRESS: string[] = ["source", "address"];

/** Per-request outcome, reused across requests (reset() first). */
export class ClientHeaders {
  /** Control bits of headers the client sent that stay as they are (or as validated). */
  kept: i32 = 0;
  stripped: i32 = 0;
  invalid: i32 = 0;
  clamped: i32 = 0;
  /** The client's global timeout after validation; -1 if none. */
  timeoutMs: i64 = -1;

  reset(): void {
    this.kept = 0;
    this.stripped = 0;
    this.invalid = 0;
    this.clamped = 0;
    this.timeoutMs = -1;
  }
}

/**
 * True if the request comes from a trusted source: `source.address` (Envoy's downstream remote
 * address, after the connection manager's XFF handling) in a trusted CIDR, or the trusted header
 * with the expected value. The trusted header is removed when configured so, whoever sent it.
 */
export function isTrustedSource(config: RetryHeadersConfig): bool {
  let trusted = false;
  const cidrs = config.trustedCidrs;
  if (cidrs !== null) {
    const address = getProperty(SOURCE_ADDRESS);
    trusted = address !== null && cidrs.containsSocketAddress(address);
  }
  const header = config.trustedHeader;
  if (header !== null) {
    const value = requestHeaderBytes(header.name);
    if (value !== null) {
      if (header.remove) removeHeaderMapValueBytes(MapType.HttpRequestHeaders, header.name);
      if (constantTimeEquals(value, header.value)) trusted = true;
    }
  }
  return trusted;
}

/** Compares without an early exit, so response timing does not reveal how much of a secret matched. */
function constantTimeEquals(a: ArrayBuffer, b: ArrayBuffer): bool {
  const n = b.byteLength;
  let diff = a.byteLength ^ n;
  const pa = changetype<usize>(a);
  const pb = changetype<usize>(b);
  const m = min(a.byteLength, n);
  for (let i = 0; i < n; i++) {
    const x = i < m ? <i32>load<u8>(pa + <usize>i) : 0;
    diff |= x ^ <i32>load<u8>(pb + <usize>i);
  }
  return diff == 0;
}

/** Removes every control header the client sent, counting them. */
export function stripControlHeaders(out: ClientHeaders): void {
  if (readControlHeaders() <= 0) return;
  for (let i = 0; i < CONTROL_HEADER_BYTES.length; i++) {
    if (unchecked(controlValues[i]) === null) continue;
    removeHeaderMapValueBytes(MapType.HttpRequestHeaders, unchecked(CONTROL_HEADER_BYTES[i]));
    out.stripped++;
  }
}

/**
 * Validates the control headers of a trusted client the way the router will read them
 * (retry_state_impl.cc, router.cc): unknown retry conditions, status codes outside 100-599 and
 * malformed header names are dropped from their lists; numbers must parse as the router parses
 * them; counts and timeouts above the caps are lowered to them (a timeout of 0, "none", counts as
 * above any cap); a per-try timeout must be below the global one (`ruleTimeoutMs` when the client
 * gives none). Each dropped or corrected header counts once as invalid or clamped.
 */
export function validateControlHeaders(config: RetryHeadersConfig, ruleTimeoutMs: i64, out: ClientHeaders): void {
  if (readControlHeaders() <= 0) return;
  for (let i = 0; i < CONTROL_HEADERS.length; i++) {
    const name = unchecked(CONTROL_HEADERS[i]);
    const bytes = unchecked(controlValues[i]);
    if (bytes === null) continue;
    const value = String.UTF8.decode(bytes!);
    const bit = 1 << i;
    let result: string | null = value;
    if (bit == Control.RetryOn) result = validList(value, LIST_RETRY_ON, out);
    else if (bit == Control.RetryGrpcOn) result = validList(value, LIST_RETRY_GRPC_ON, out);
    else if (bit == Control.RetriableStatusCodes) result = validList(value, LIST_STATUS_CODES, out);
    else if (bit == Control.RetriableHeaderNames) result = validList(value, LIST_HEADER_NAMES, out);
    else if (bit == Control.MaxRetries) result = capped(value, config.maxRetriesCap, false, out);
    else if (bit == Control.Timeout || bit == Control.ExpectedTimeout) result = capped(value, config.timeoutCapMs, true, out);
    else if (bit == Control.PerTryTimeout) result = validPerTry(value, config, ruleTimeoutMs, out);
    else if (bit == Control.Hedge) result = value == "true" || value == "false" ? value : null;
    // Control.TimeoutAltResponse: the router only looks at its presence.
    if (result === null) {
      out.invalid++;
      removeHeaderMapValue(MapType.HttpRequestHeaders, name);
      continue;
    }
    if (result != value) replaceHeaderMapValue(MapType.HttpRequestHeaders, name, result);
    if (bit == Control.Timeout) out.timeoutMs = parseUnsigned(result);
    out.kept |= bit;
  }
}

const LIST_RETRY_ON: i32 = 0;
const LIST_RETRY_GRPC_ON: i32 = 1;
const LIST_STATUS_CODES: i32 = 2;
const LIST_HEADER_NAMES: i32 = 3;

function validItem(kind: i32, item: string): string | null {
  if (kind == LIST_RETRY_ON) return indexOfToken(RETRY_ON_TOKENS, item) >= 0 ? item : null;
  if (kind == LIST_RETRY_GRPC_ON) return indexOfToken(RETRY_GRPC_ON_TOKENS, item) >= 0 ? item : null;
  if (kind == LIST_STATUS_CODES) {
    const code = parseUnsigned(item);
    return code >= 100 && code <= 599 ? code.toString() : null;
  }
  return isToken(item) ? lowerAscii(item) : null;
}

/**
 * The list with its invalid items dropped (counted once as invalid) and the rest in the form the
 * router compares them in; the value unchanged when that is the same; null (drop the header) when
 * no item is valid.
 */
function validList(value: string, kind: i32, out: ClientHeaders): string | null {
  const items = splitList(value);
  const valid = new Array<string>();
  for (let i = 0; i < items.length; i++) {
    const item = validItem(kind, unchecked(items[i]));
    if (item !== null) valid.push(item);
  }
  if (valid.length == 0) return null;
  if (valid.length < items.length) out.invalid++;
  const normalized = valid.join(",");
  return normalized == items.join(",") ? value : normalized;
}

/** An unsigned number lowered to `cap` (-1 = none); with `zeroIsUnlimited`, 0 counts as above it. */
function capped(value: string, cap: i64, zeroIsUnlimited: bool, out: ClientHeaders): string | null {
  const n = parseUnsigned(value);
  if (n < 0) return null;
  if (cap >= 0 && (n > cap || (zeroIsUnlimited && n == 0))) {
    out.clamped++;
    return cap.toString();
  }
  return value;
}

function validPerTry(value: string, config: RetryHeadersConfig, ruleTimeoutMs: i64, out: ClientHeaders): string | null {
  const result = capped(value, config.perTryTimeoutCapMs, true, out);
  if (result === null) return null;
  const global = out.timeoutMs >= 0 ? out.timeoutMs : ruleTimeoutMs;
  const perTry = parseUnsigned(result);
  // router.cc finalTimeout: a per-try timeout not below a (non-zero) global timeout is ignored.
  if (global > 0 && perTry >= global) return null;
  return result;
}

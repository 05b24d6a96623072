// Envoy's ConnectionManagerUtility (source/common/http/conn_manager_utility.cc): the request header
// mutations the HTTP connection manager makes before any HTTP filter runs — hop-by-hop removal,
// x-forwarded-for / x-forwarded-proto / :scheme, the internal-vs-external decision (filters.md
// §3.2), cleanInternalHeaders for external requests, x-envoy-external-address and x-request-id —
// and the response-side hop-by-hop cleanup.
import { randomUUID } from "node:crypto";
import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";
import type { HcmModel } from "../config/model.js";
import type { HeaderMap } from "../http/header-map.js";
import { httpDate } from "./date-provider.js";

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) → "10.0.0.1". */
export function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** Envoy Network::Utility::isLoopbackAddress: exactly 127.0.0.1 or ::1. */
export function isLoopback(ip: string): boolean {
  return ip === "127.0.0.1" || ip === "::1";
}

/** Envoy Network::Utility::isInternalAddress: RFC1918, 127.0.0.1, fd00::/8 and ::1. */
export function isRfc1918OrLoopback(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) {
    const [a, b] = ip.split(".").map(Number) as [number, number];
    return a === 10 || (a === 192 && b === 168) || (a === 172 && b >= 16 && b <= 31) || ip === "127.0.0.1";
  }
  return v === 6 && (/^fd/i.test(ip) || ip === "::1");
}

/**
 * The HCM's internal address check. Without internal_address_config no address is internal
 * (Envoy ≥1.33: explicit_internal_address_config; envoy 1.36 removed the RFC1918 fallback);
 * configured without cidr_ranges it is RFC1918/RFC4193, as the proto documents.
 */
export function internalAddressMatcher(config: HcmModel["internalAddress"]): (ip: string) => boolean {
  if (!config) return () => false;
  if (!config.cidrRanges.length) return isRfc1918OrLoopback;
  const list = new BlockList();
  for (const r of config.cidrRanges) list.addSubnet(r.prefix, r.length, isIP(r.prefix) === 6 ? "ipv6" : "ipv4");
  return (ip) => {
    const v = isIP(ip);
    return v !== 0 && list.check(ip, v === 6 ? "ipv6" : "ipv4");
  };
}

/** Envoy's LocalInfo address: the first non-loopback IPv4 interface address. */
export function localAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

/** Envoy Utility::getLastAddressFromXFF. */
export function lastAddressFromXff(headers: HeaderMap, numToSkip: number): { address?: string; singleAddress: boolean } {
  const values = headers.getAll("x-forwarded-for");
  if (!values.length) return { singleAddress: false };
  let xff = values.join(",");
  for (let i = 0; i < numToSkip; i++) {
    const comma = xff.lastIndexOf(",");
    if (comma < 0) return { singleAddress: false };
    xff = xff.slice(0, comma);
  }
  const comma = xff.lastIndexOf(",");
  const candidate = (comma >= 0 && comma + 1 < xff.length ? xff.slice(comma + 1) : xff).trim();
  if (!isIP(candidate)) return { singleAddress: false };
  return { address: candidate, singleAddress: comma < 0 && numToSkip === 0 };
}

function appendXff(headers: HeaderMap, ip: string): void {
  const existing = headers.getAll("x-forwarded-for");
  headers.set("x-forwarded-for", existing.length ? `${existing.join(",")}, ${ip}` : ip);
}

/** Envoy ConnectionManagerUtility::cleanInternalHeaders. */
export function cleanInternalHeaders(headers: HeaderMap, edgeRequest: boolean, internalOnlyHeaders: readonly string[]): void {
  if (edgeRequest) {
    headers.remove("x-envoy-decorator-operation");
    headers.remove("x-envoy-downstream-service-cluster");
    headers.remove("x-envoy-downstream-service-node");
  }
  for (const h of [
    "x-envoy-retriable-status-codes",
    "x-envoy-retriable-header-names",
    "x-envoy-retry-on",
    "x-envoy-retry-grpc-on",
    "x-envoy-max-retries",
    "x-envoy-upstream-alt-stat-name",
    "x-envoy-upstream-rq-timeout-ms",
    "x-envoy-upstream-rq-per-try-timeout-ms",
    "x-envoy-upstream-rq-timeout-alt-response",
    "x-envoy-expected-rq-timeout-ms",
    "x-envoy-force-trace",
    "x-envoy-ip-tags",
    "x-envoy-original-url",
    "x-envoy-hedge-on-per-try-timeout",
  ]) {
    headers.remove(h);
  }
  for (const h of internalOnlyHeaders) headers.remove(h);
}

export interface MutateRequestResult {
  /** The trusted client address (XFF-derived or the peer), what `source.address` reports. */
  finalRemoteAddress: string;
  internalRequest: boolean;
  edgeRequest: boolean;
}

export interface DownstreamAddresses {
  remote: string;
  /** Envoy config.localAddress(): appended to XFF instead of a loopback peer. */
  localInfoAddress: string;
}

const isAbsoluteUrl = (v: string): boolean => /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#\s]+/.test(v);

/** Envoy ConnectionManagerUtility::mutateRequestHeaders for a plaintext HTTP/1.1 connection. */
export function mutateRequestHeaders(
  headers: HeaderMap,
  conn: DownstreamAddresses,
  config: HcmModel,
  isInternal: (ip: string) => boolean,
  internalOnlyHeaders: readonly string[],
  uuid: () => string = randomUUID,
): MutateRequestResult {
  for (const h of ["connection", "upgrade", "x-envoy-internal", "keep-alive", "proxy-connection", "transfer-encoding"]) headers.remove(h);
  // A Referer that is repeated or not an absolute URL is dropped.
  const referers = headers.getAll("referer");
  if (referers.length > 1 || (referers.length === 1 && !isAbsoluteUrl(referers[0]!))) headers.remove("referer");

  let finalRemote: string | undefined;
  let allowTrustedChecks: boolean;
  const hops = config.xffNumTrustedHops;
  if (config.useRemoteAddress) {
    allowTrustedChecks = !headers.has("x-forwarded-for");
    if (hops > 0) finalRemote = lastAddressFromXff(headers, hops - 1).address;
    finalRemote ??= conn.remote;
    if (!config.skipXffAppend) appendXff(headers, isLoopback(conn.remote) ? conn.localInfoAddress : conn.remote);
    // The prior hop is not trusted: its x-forwarded-proto is overwritten.
    if (hops === 0 || !headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", "http");
  } else {
    // The default original-IP detection extension (XFF with xff_num_trusted_hops).
    const xff = lastAddressFromXff(headers, hops);
    finalRemote = xff.address;
    allowTrustedChecks = xff.singleAddress;
  }
  if (!headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", "http");
  if (!headers.has(":scheme")) {
    const xfp = headers.get("x-forwarded-proto")!;
    headers.set(":scheme", xfp === "http" || xfp === "https" ? xfp : "http");
  }
  const internalRequest = allowTrustedChecks && finalRemote !== undefined && isInternal(finalRemote);
  finalRemote ??= conn.remote;
  const edgeRequest = !internalRequest && config.useRemoteAddress;
  if (internalRequest) headers.set("x-envoy-internal", "true");
  else cleanInternalHeaders(headers, edgeRequest, internalOnlyHeaders);
  if (edgeRequest) headers.set("x-envoy-external-address", finalRemote);
  if (config.generateRequestId) {
    const force = !config.preserveExternalRequestId && edgeRequest;
    if (force || !headers.has("x-request-id")) headers.set("x-request-id", uuid());
  }
  // Envoy sanitizeTEHeader: only "trailers" may pass.
  const te = headers.get("te");
  if (te !== undefined) {
    if (te.split(",").some((t) => t.trim().toLowerCase() === "trailers")) headers.set("te", "trailers");
    else headers.remove("te");
  }
  return { finalRemoteAddress: finalRemote, internalRequest, edgeRequest };
}

const HOP_BY_HOP_RESPONSE_HEADERS = ["connection", "transfer-encoding", "keep-alive", "proxy-connection", "upgrade"];

/** Envoy mutateResponseHeaders + the HCM's base response headers (date, server, request id). */
export function mutateResponseHeaders(headers: HeaderMap, requestHeaders: HeaderMap | null, config: HcmModel): void {
  // ConnectionManagerImpl::ActiveStream::encodeHeaders: an upstream Date is kept; one is added only when absent.
  if (!headers.has("date")) headers.set("date", httpDate());
  const t = config.serverHeaderTransformation;
  if (t === "OVERWRITE" || (t === "APPEND_IF_ABSENT" && !headers.has("server"))) headers.set("server", config.serverName);
  for (const h of HOP_BY_HOP_RESPONSE_HEADERS) headers.remove(h);
  const requestId = requestHeaders?.get("x-request-id");
  if (requestId !== undefined && (config.alwaysSetRequestIdInResponse || requestHeaders?.has("x-envoy-force-trace"))) {
    headers.set("x-request-id", requestId);
  }
}

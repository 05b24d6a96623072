// Header values in request/response_headers_to_add may hold Envoy command operators
// (%DOWNSTREAM_REMOTE_ADDRESS%, %REQ(x-foo)%, ...), evaluated per request by Envoy's HeaderParser
// with empty output for missing values. A small, commonly used set is implemented; any other
// operator is refused at load time so a config never means something different here.
import { hostname } from "node:os";
import type { HeaderMap } from "../http/header-map.js";
import type { StreamInfo } from "../http/stream-info.js";
import { notSupported } from "./errors.js";

export interface HeaderFormatContext {
  streamInfo: StreamInfo;
  requestHeaders?: HeaderMap;
}

export interface HeaderValueTemplate {
  readonly text: string;
  render(ctx: HeaderFormatContext): string;
}

type Part = string | ((ctx: HeaderFormatContext) => string);

const ipPort = (a: { ip: string; port: number }): string => (a.ip.includes(":") ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`);

function formatStartTime(ns: bigint): string {
  // Envoy's default START_TIME format: %Y-%m-%dT%H:%M:%E3SZ
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

const operators: Record<string, (arg: string | undefined) => (ctx: HeaderFormatContext) => string> = {
  DOWNSTREAM_REMOTE_ADDRESS: () => (c) => ipPort(c.streamInfo.connection.source),
  DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT: () => (c) => c.streamInfo.connection.source.ip,
  DOWNSTREAM_REMOTE_PORT: () => (c) => String(c.streamInfo.connection.source.port),
  DOWNSTREAM_LOCAL_ADDRESS: () => (c) => ipPort(c.streamInfo.connection.destination),
  DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT: () => (c) => c.streamInfo.connection.destination.ip,
  DOWNSTREAM_LOCAL_PORT: () => (c) => String(c.streamInfo.connection.destination.port),
  PROTOCOL: () => (c) => c.streamInfo.protocol,
  HOSTNAME: () => () => hostname(),
  START_TIME: () => (c) => formatStartTime(c.streamInfo.startTimeNs),
  REQ: (arg) => {
    const name = (arg ?? "").split("?")[0]!.toLowerCase();
    return (c) => c.requestHeaders?.get(name) ?? "";
  },
};

/** Compiles a header value; `path` names it in errors. */
export function compileHeaderValue(text: string, path: string): HeaderValueTemplate {
  const parts: Part[] = [];
  let literal = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== "%") {
      literal += c;
      i++;
      continue;
    }
    if (text[i + 1] === "%") {
      literal += "%";
      i += 2;
      continue;
    }
    const end = text.indexOf("%", i + 1);
    const m = end < 0 ? null : /^([A-Z_0-9]+)(?:\((.*)\))?(?::\d+)?$/.exec(text.slice(i + 1, end));
    if (!m) throw notSupported(path, `unterminated or malformed command operator in ${JSON.stringify(text)}`);
    const op = operators[m[1]!];
    if (!op) throw notSupported(path, `command operator %${m[1]}% in header values; supported: ${Object.keys(operators).map((k) => `%${k}%`).join(", ")}`);
    if (literal) parts.push(literal);
    literal = "";
    parts.push(op(m[2]));
    i = end + 1;
  }
  if (literal) parts.push(literal);
  const constant = parts.every((p) => typeof p === "string") ? parts.join("") : undefined;
  return {
    text,
    render: constant !== undefined ? () => constant : (ctx) => parts.map((p) => (typeof p === "string" ? p : p(ctx))).join(""),
  };
}

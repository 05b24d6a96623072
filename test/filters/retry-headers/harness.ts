// Shared set-up of the retry-headers tests: the release module in the emulator, and requests that
// report what reached the router (the emulator's stand-in for it) and what the client got back.
import { Emulator } from "../../../host/emulator/index.js";
import type { EmulatedPlugin } from "../../../host/emulator/emulator.js";
import type { HeaderMap } from "../../../host/http/header-map.js";
import { moduleBytes } from "../../support/modules.js";

export const CONTROL_HEADERS = [
  "x-envoy-retry-on",
  "x-envoy-retry-grpc-on",
  "x-envoy-max-retries",
  "x-envoy-retriable-status-codes",
  "x-envoy-retriable-header-names",
  "x-envoy-upstream-rq-timeout-ms",
  "x-envoy-upstream-rq-per-try-timeout-ms",
  "x-envoy-hedge-on-per-try-timeout",
  "x-envoy-upstream-rq-timeout-alt-response",
  "x-envoy-expected-rq-timeout-ms",
];

export interface Loaded {
  emu: Emulator;
  plugin: EmulatedPlugin;
}

export async function load(configuration: object | string, logLevel: "trace" | "debug" | "info" = "info"): Promise<Loaded> {
  const emu = new Emulator({ logLevel });
  const plugin = await emu.loadPlugin({ wasm: await moduleBytes("retry-headers"), name: "retry_headers", rootId: "retry_headers", configuration });
  return { emu, plugin };
}

/** Runs `run` with the filter loaded with `configuration`, then shuts the emulator down. */
export async function withFilter(configuration: object, run: (l: Loaded) => void | Promise<void>): Promise<void> {
  const loaded = await load(configuration);
  try {
    await run(loaded);
  } finally {
    await loaded.emu.shutdown();
  }
}

const CONFIG_ERROR = "retry-headers: invalid plugin configuration: ";

/** Outcome of loading a configuration: null if accepted, else what the filter logged after CONFIG_ERROR. */
export async function configurationError(configuration: object | string): Promise<string | null> {
  const emu = new Emulator();
  try {
    await emu.loadPlugin({ wasm: await moduleBytes("retry-headers"), name: "retry_headers", rootId: "retry_headers", configuration, concurrency: 1 });
    await emu.shutdown();
    return null;
  } catch {
    const line = emu.logs("error").find((l) => l.includes(CONFIG_ERROR));
    return line ? line.slice(line.indexOf(CONFIG_ERROR) + CONFIG_ERROR.length) : emu.logs().join("\n");
  }
}

export interface RequestOptions {
  /** "ip:port" of the downstream peer (source.address). */
  source?: string;
  routeName?: string;
  body?: string;
}

/** Sends one request through the filter; returns the headers the router received, as an object. */
export function send(emu: Emulator, headers: Record<string, string>, options: RequestOptions = {}): Record<string, string> {
  const s = emu.newStream({
    connection: options.source ? parseSource(options.source) : undefined,
    streamInfo: options.routeName !== undefined ? { routeName: options.routeName } : undefined,
  });
  const all = { ":method": "GET", ":path": "/", ":authority": "example.com", ":scheme": "http", ...headers };
  s.sendRequestHeaders(all, { endStream: options.body === undefined });
  if (options.body !== undefined) s.sendRequestBody(options.body, { endStream: true });
  s.respond({ status: 200 });
  s.complete();
  return toObject(s.upstream.headers);
}

export function toObject(map: HeaderMap | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (map) for (const [k, v] of map) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return out;
}

/** The control headers among `headers`. */
export function controlHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => CONTROL_HEADERS.includes(k)));
}

export function parseSource(source: string): { source: { ip: string; port: number } } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(source);
  if (!m) throw new Error(`bad source ${source}`);
  return { source: { ip: m[1]!, port: Number(m[2]) } };
}

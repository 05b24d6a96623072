// Shared by the rate-limit tests: the module, a plugin loaded in the emulator with a
// configuration, and one-call requests that report what the client saw.
import { Emulator, type EmulatedPlugin, type EmulatedStream, type StreamOptions } from "../../../host/emulator/index.js";
import type { HeaderMap } from "../../../host/http/header-map.js";
import { moduleBytes } from "../../support/modules.js";

export const STAT = "http_local_rate_limiter.http_local_rate_limit";
export const GET = { ":method": "GET", ":path": "/get", ":authority": "api.example.com", ":scheme": "http" };

export type Config = Record<string, unknown>;

/** A token bucket as the configuration writes it. */
export const bucket = (maxTokens: number, tokensPerFill = 1, fillInterval = "1s"): Config => ({
  max_tokens: maxTokens,
  tokens_per_fill: tokensPerFill,
  fill_interval: fillInterval,
});

export interface Loaded {
  emu: Emulator;
  plugin: EmulatedPlugin;
}

/** An emulator with the rate-limit plugin (name "rl", `concurrency` worker VMs) configured. */
export async function loadRateLimit(configuration: Config | string, opts: { concurrency?: number; vmId?: string; name?: string } = {}): Promise<Loaded> {
  const emu = new Emulator({ logLevel: "info" });
  const plugin = await emu.loadPlugin({
    wasm: await moduleBytes("rate-limit"),
    name: opts.name ?? "rl",
    rootId: "rate_limit",
    vmId: opts.vmId ?? "",
    configuration,
    concurrency: opts.concurrency ?? 2,
  });
  return { emu, plugin };
}

export interface Outcome {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Request headers as the upstream received them (null if it never did). */
  upstream: Record<string, string> | null;
  stream: EmulatedStream;
}

function plain(map: HeaderMap | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (map) for (const [k, v] of map.entries()) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return out;
}

/** One request through the filter chain; the upstream answers 200 if the request reaches it. */
export function request(emu: Emulator, headers: Record<string, string> = {}, options: StreamOptions = {}): Outcome {
  const stream = emu.newStream(options);
  stream.sendRequestHeaders({ ...GET, ...headers }, { endStream: true });
  if (!stream.localReply && stream.upstream.headers) stream.respond({ status: 200, headers: { "content-type": "text/plain" }, body: "ok" });
  const result: Outcome = {
    status: Number(stream.downstream.headers?.get(":status") ?? 0),
    headers: plain(stream.downstream.headers),
    body: stream.downstream.body.toString("latin1"),
    upstream: stream.upstream.headers ? plain(stream.upstream.headers) : null,
    stream,
  };
  stream.complete();
  return result;
}

/** Statuses of `n` requests, spread round robin over `workers` worker VMs. */
export function statuses(emu: Emulator, n: number, workers = 1, headers: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(request(emu, headers, { worker: i % workers }).status);
  return out;
}

export const count = (list: number[], status: number): number => list.filter((s) => s === status).length;

/** The four Envoy counters, as numbers. */
export function counters(emu: Emulator, prefix = STAT): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of ["enabled", "ok", "rate_limited", "enforced", "cas_exhausted", "descriptor_overflow"]) {
    out[name] = Number(emu.counter(`${prefix}.${name}`) ?? -1n);
  }
  return out;
}

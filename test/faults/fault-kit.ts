// Shared pieces of the fault tests: Wasm filters put into a bootstrap (inline module bytes, as
// vm_config.code.local.inline_bytes), a second listener "plain" without Wasm filters so a test can
// show the proxy still serves after a fault, and requests that report status, headers and body.
import { after } from "node:test";
import { bootstrap, startProxy, type StartedProxy } from "../support/proxy.js";
import { startUpstream, type Handler, type TestUpstream } from "../proxy/upstream.js";

type Json = Record<string, any>;

const running: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
after(async () => {
  for (const r of running.splice(0).reverse()) await ("stop" in r ? r.stop() : r.close());
});

export async function upstream(handler: Handler): Promise<TestUpstream> {
  const up = await startUpstream(handler);
  running.push(up);
  return up;
}

export function wasmFilter(name: string, code: Uint8Array, config: Json = {}): Json {
  return {
    name: "envoy.filters.http.wasm",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
      config: {
        name,
        root_id: name,
        vm_config: { vm_id: name, runtime: "envoy.wasm.runtime.v8", code: { local: { inline_bytes: Buffer.from(code).toString("base64") } } },
        ...config,
      },
    },
  };
}

/** PluginConfig.configuration as Istio sends it: a StringValue holding JSON text. */
export function stringValue(text: string): Json {
  return { "@type": "type.googleapis.com/google.protobuf.StringValue", value: text };
}

/** Adds listener "plain": the same routes as listener "test", no Wasm filter. */
export function withPlainListener(b: Json): Json {
  const listeners = b.static_resources.listeners as Json[];
  const plain = structuredClone(listeners[0]!);
  plain.name = "plain";
  const hcm = plain.filter_chains[0].filters[0].typed_config;
  hcm.stat_prefix = "plain";
  hcm.http_filters = hcm.http_filters.filter((f: Json) => f.name !== "envoy.filters.http.wasm");
  listeners.push(plain);
  return b;
}

export async function start(config: Json, options: { logLevel?: "info" | "debug" | "trace"; concurrency?: number } = {}): Promise<StartedProxy> {
  const p = await startProxy({ config, concurrency: options.concurrency ?? 1, logLevel: options.logLevel ?? "info" });
  running.push(p);
  return p;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: string;
}

export async function send(url: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** Log lines written since `from` (an index into p.logs), joined. */
export const logsSince = (p: StartedProxy, from: number): string => p.logs.slice(from).join("");

export { bootstrap };

// What a scenario observes, the way a user with curl would: responses, the request httpbin
// received, and the admin's /stats and /stats/prometheus.
import { echoedHeader, type ScenarioTarget } from "./target.js";

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

export async function send(url: string, init?: RequestInit): Promise<Reply> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export interface Echo {
  reply: Reply;
  /** A request header as httpbin received it (first value), or undefined. */
  header(name: string): string | undefined;
}

/**
 * GET /headers through the target: the response, and the request as it reached httpbin. Python
 * httpbin hides X-Forwarded-*, X-Request-Id and similar headers unless `?show_env=1`; go-httpbin
 * (compose.yaml) shows them always and ignores the parameter.
 */
export async function echo(t: ScenarioTarget, headers: Record<string, string> = {}): Promise<Echo> {
  const reply = await send(`${t.baseUrl}/headers?show_env=1`, { headers });
  if (reply.status !== 200) throw new Error(`GET /headers answered ${reply.status}: ${reply.text}`);
  const body = JSON.parse(reply.text) as { headers?: Record<string, string | string[]> };
  return { reply, header: (name) => echoedHeader(body, name) };
}

export interface Sample {
  metric: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition lines `name{a="b",...} value` (and `name value`). */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ metric: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

export async function prometheus(t: ScenarioTarget): Promise<Sample[]> {
  return parsePrometheus(await (await fetch(`${t.adminUrl}/stats/prometheus`)).text());
}

/** Sum over the samples of `metric` whose labels include `labels`. */
export function total(samples: Sample[], metric: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/**
 * Retries `check` until it passes or `timeoutMs` runs out. Envoy records a stream's Wasm metrics
 * when the stream is logged, at its end; a client can read the admin before that.
 */
export async function eventually(check: () => Promise<void>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A counter or gauge of GET /stats, 0 when absent. */
export async function stat(t: ScenarioTarget, name: string): Promise<number> {
  return (await t.stats()).get(name) ?? 0;
}

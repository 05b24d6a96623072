// Fuzz target "requests": random and mutated requests and responses through the whole filter
// suite in the emulator, each filter configured with its richest example configuration. The
// headers are the ones the filters read — Istio's peer metadata (valid Structs, mutated base64,
// garbage), the router's retry headers, x-forwarded-for, gRPC content types, odd :status values —
// with values an HTTP/1 codec lets through (no NUL, CR or LF; Envoy rejects those before any
// filter). Any VM failure (a trap, proxy-wasm-abi.md §6.5) is a finding: in Envoy it would answer
// 503 to every later request on that worker under the default fail-closed policy.
// An input is JSON ({request, response, body, advanceMs, source}) so corpus files are readable.
import { encodeJson } from "../../../host/envoy/protos.js";
import { Emulator, WasmLoadError, type EmulatedPlugin } from "../../../host/emulator/index.js";
import { moduleBytes, modulePath } from "../../support/modules.js";
import { randomJson } from "../json-gen.js";
import { mutate, utf8 } from "../mutate.js";
import type { Prng } from "../prng.js";
import { suiteFilters, type SuiteFilter } from "./filter-configs.js";
import { Finding, type FuzzCase, type FuzzTarget, type Outcome, type TargetRunner } from "./types.js";

/** Chain order of the suite in Istio's sidecar (filters.md §1.5, §2.6), others after. */
const chainOrder = ["metadata-exchange", "stats", "retry-headers", "rate-limit"];

interface RequestInput {
  request: Array<[string, string]>;
  response: Array<[string, string]>;
  body: string;
  advanceMs: number;
  source: string;
}

/** A header value as an HTTP/1 codec would pass it: bytes 0x20-0xff without DEL, or HTAB. */
function headerValue(rng: Prng, max = 64): string {
  let s = "";
  for (let n = rng.length(max); n > 0; n--) {
    const c = rng.chance(0.8) ? rng.range(0x20, 0x7e) : rng.pick([0x09, rng.range(0x80, 0xff)]);
    s += String.fromCharCode(c);
  }
  return s;
}

function peerMetadata(rng: Prng): string {
  const struct = {
    NAME: rng.pick(["productpage-v1-abc", "", "é"]),
    NAMESPACE: rng.pick(["default", "bookinfo"]),
    WORKLOAD_NAME: rng.pick(["productpage-v1", "reviews"]),
    CLUSTER_ID: "Kubernetes",
    LABELS: { app: "productpage", version: "v1", "service.istio.io/canonical-name": "productpage" },
    ...(rng.chance(0.3) ? { EXTRA: randomJson(rng) } : {}),
  };
  const b64 = Buffer.from(encodeJson("google.protobuf.Struct", struct)).toString("base64");
  if (rng.chance(0.5)) return b64;
  return Buffer.from(mutate(rng, utf8(b64), [utf8("="), utf8("A")])).toString("latin1").replace(/[\x00-\x1f\x7f]/g, "A");
}

const requestHeaderGenerators: Array<[string, (rng: Prng) => string]> = [
  ["x-envoy-peer-metadata", peerMetadata],
  ["x-envoy-peer-metadata-id", (rng) => rng.pick(["sidecar~10.0.0.1~productpage-v1-abc.default~default.svc.cluster.local", "", headerValue(rng)])],
  ["x-envoy-retry-on", (rng) => rng.pick(["5xx", "gateway-error,reset", "retriable-status-codes", "", ",,,", headerValue(rng)])],
  ["x-envoy-retry-grpc-on", (rng) => rng.pick(["unavailable", "cancelled,deadline-exceeded", headerValue(rng)])],
  ["x-envoy-max-retries", (rng) => rng.pick(["0", "1", "3", "-1", "99999999999999999999", "1.5", headerValue(rng, 8)])],
  ["x-envoy-upstream-rq-timeout-ms", (rng) => rng.pick(["0", "100", "-5", "18446744073709551616", headerValue(rng, 8)])],
  ["x-envoy-upstream-rq-per-try-timeout-ms", (rng) => rng.pick(["50", "0", headerValue(rng, 8)])],
  ["x-envoy-retriable-status-codes", (rng) => rng.pick(["503", "503,504", "abc", headerValue(rng, 12)])],
  ["x-envoy-retriable-header-names", (rng) => headerValue(rng, 20)],
  ["x-envoy-hedge-on-per-try-timeout", (rng) => rng.pick(["true", "false", headerValue(rng, 6)])],
  ["grpc-timeout", (rng) => rng.pick(["1S", "100m", "99999999H", "x", headerValue(rng, 10)])],
  ["idempotency-key", (rng) => headerValue(rng, 20)],
  ["x-forwarded-for", (rng) => rng.pick(["10.0.0.1", "1.2.3.4, 10.0.0.2", "::1", "garbage", ", ,", headerValue(rng, 40)])],
  ["x-internal-caller", (rng) => rng.pick(["c7f1e0b2", headerValue(rng, 10)])],
  ["x-user", (rng) => headerValue(rng, 16)],
  ["x-request-id", (rng) => headerValue(rng, 40)],
  ["content-type", (rng) => rng.pick(["application/grpc", "application/grpc+proto", "application/json", headerValue(rng, 20)])],
  ["te", () => "trailers"],
];

function requestHeaders(rng: Prng): Array<[string, string]> {
  const headers: Array<[string, string]> = [
    [":method", rng.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "CONNECT", "get", headerValue(rng, 10)])],
    [":path", rng.pick(["/", "/login", "/api/v1/items?x=1", "/orders/v2/123", "/search.v1.Search/Query", "/inventory.Inventory/Get", `/${headerValue(rng, 200).replace(/[ \t]/g, "")}`])],
    [":authority", rng.pick(["api.example.com", "productpage:9080", "", "[::1]:80", headerValue(rng, 30)])],
    [":scheme", rng.pick(["http", "https"])],
  ];
  for (const [name, value] of requestHeaderGenerators) if (rng.chance(0.25)) headers.push([name, value(rng)]);
  for (let n = rng.int(3); n > 0; n--) headers.push([rng.pick(["x-a", "x-envoy-foo", "cookie", "authorization"]), headerValue(rng)]);
  if (rng.chance(0.1)) headers.splice(rng.int(headers.length), 1); // a pseudo-header may be missing
  return headers;
}

function responseHeaders(rng: Prng): Array<[string, string]> {
  const headers: Array<[string, string]> = [[":status", rng.pick(["200", "200", "204", "429", "503", "504", "404", "999", "abc"])]];
  if (rng.chance(0.4)) headers.push(["x-envoy-peer-metadata", peerMetadata(rng)]);
  if (rng.chance(0.3)) headers.push(["x-envoy-peer-metadata-id", headerValue(rng)]);
  if (rng.chance(0.3)) headers.push(["grpc-status", rng.pick(["0", "14", "99", headerValue(rng, 4)])]);
  if (rng.chance(0.3)) headers.push(["content-type", rng.pick(["application/grpc", "text/plain"])]);
  return headers;
}

function generateRequest(rng: Prng): FuzzCase {
  const input: RequestInput = {
    request: requestHeaders(rng),
    response: responseHeaders(rng),
    body: rng.chance(0.3) ? headerValue(rng, 200) : "",
    advanceMs: rng.chance(0.2) ? rng.pick([1, 999, 1000, 60_000]) : 0,
    source: rng.pick(["127.0.0.1", "10.1.2.3", "192.168.0.7", "::1", "fd00::5"]),
  };
  return { input: utf8(JSON.stringify(input)) };
}

/** The richest (longest) example configuration of a filter that loads. */
async function loadRichest(emu: Emulator, filter: SuiteFilter): Promise<EmulatedPlugin> {
  const wasm = await moduleBytes(filter.name);
  const seeds = [...filter.seeds].sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length);
  for (const seed of [...seeds, {}]) {
    try {
      return await emu.loadPlugin({ wasm, name: filter.name, rootId: filter.rootId, vmId: filter.name, configuration: seed as object, concurrency: 1 });
    } catch (e) {
      if (!(e instanceof WasmLoadError)) throw e;
    }
  }
  throw new Error(`${filter.name}: none of its example configurations loads`);
}

class RequestRunner implements TargetRunner {
  private constructor(
    private readonly emu: Emulator,
    private readonly plugins: EmulatedPlugin[],
  ) {}

  static async open(): Promise<RequestRunner> {
    const emu = new Emulator({ logLevel: "info", clusters: ["outbound|9080||reviews.default.svc.cluster.local"] });
    const filters = suiteFilters().sort((a, b) => rank(a.name) - rank(b.name));
    const plugins: EmulatedPlugin[] = [];
    for (const f of filters) plugins.push(await loadRichest(emu, f));
    return new RequestRunner(emu, plugins);
  }

  run(c: FuzzCase): Outcome {
    let input: RequestInput;
    try {
      input = JSON.parse(Buffer.from(c.input).toString("utf8")) as RequestInput;
    } catch {
      return "rejected"; // a corpus file that is not a request
    }
    const logStart = this.emu.log.entries.length;
    if (input.advanceMs > 0) this.emu.advance(input.advanceMs);
    const s = this.emu.newStream({ connection: { source: { ip: input.source, port: 40000 } } });
    const body = input.body.length > 0;
    s.sendRequestHeaders(input.request, { endStream: !body });
    if (body && !s.localReply) s.sendRequestBody(Buffer.from(input.body, "latin1"));
    // A filter may still hold the request (waiting on a callout): then no response comes.
    if (!s.localReply && !s.resetReason && s.upstream.headers) s.respond({ status: Number(input.response[0]?.[1]) || 200, headers: input.response.slice(1), body: "ok" });
    s.complete();
    const failed = this.plugins.filter((p) => p.failed(0));
    if (failed.length) {
      const errors = this.emu.log.entries.slice(logStart).filter((e) => e.level === "error" || e.level === "critical").map((e) => e.message);
      throw new Finding("trap", `${failed.map((p) => p.name).join(", ")} failed on a request: ${errors.join(" | ").slice(0, 1500)}`);
    }
    return s.localReply ? "rejected" : "accepted";
  }

  async close(): Promise<void> {
    await this.emu.shutdown();
  }
}

const rank = (name: string): number => (chainOrder.includes(name) ? chainOrder.indexOf(name) : chainOrder.length);

export const requestTarget: FuzzTarget = {
  name: "requests",
  caseDeadlineMs: 5000,
  async prepare() {
    for (const f of suiteFilters()) await modulePath(f.name);
  },
  generate: generateRequest,
  open: () => RequestRunner.open(),
};

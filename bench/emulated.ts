// A module's cost and memory in the real host: streams through the emulator (the same
// createWasmPlugin, FilterManager and Wasm filter as the local proxy, proxy-wasm-abi.md §6.2),
// next to a no-op WAT plugin measured the same way in the same run, so the difference is what the
// module adds per request — its guest code and the host calls it makes, as our host serves them.
// Linear memory is read after warm-up and after all streams: it never shrinks (§8.2), so any
// growth after warm-up is memory the module keeps per stream.
import { encodeJson } from "../host/envoy/protos.js";
import { Emulator, type EmulatedPlugin } from "../host/emulator/index.js";
import { wat } from "../test/support/wat.js";
import { noopPluginWat } from "./noop-plugin.js";
import type { ModuleSetup } from "./setups.js";
import { median } from "./median.js";

/** How the module is loaded and what its streams carry (bench/setups.ts). */
export interface EmulatedOptions extends Partial<Omit<ModuleSetup, "skip" | "singletonState">> {
  /** Streams in all (default 100 000), of which `warmup` first (default 10 000). */
  streams?: number;
  warmup?: number;
  /** Timed runs per side, of `streams / runs`-ish each; the median is reported (default 7). */
  runs?: number;
}

export interface EmulatedResult {
  /** Median ns per stream with the module, with the no-op plugin, and the difference. */
  ns: number;
  baselineNs: number;
  deltaNs: number;
  streams: number;
  memoryAfterWarmupBytes: number;
  memoryAfterStreamsBytes: number;
  growthBytes: number;
  /** Streams the module answered itself (local replies): 0 for a filter that lets requests through. */
  localReplies: number;
}

/** A plugin that does nothing: every callback returns Continue. */
/** A sidecar-to-sidecar request: Istio's peer metadata is on it, as in a mesh. */
function requestHeaders(): Array<[string, string]> {
  const peer = encodeJson("google.protobuf.Struct", {
    NAME: "productpage-v1-6b746f74dc-9stvs",
    NAMESPACE: "default",
    WORKLOAD_NAME: "productpage-v1",
    CLUSTER_ID: "Kubernetes",
    LABELS: { app: "productpage", version: "v1", "service.istio.io/canonical-name": "productpage", "service.istio.io/canonical-revision": "v1" },
  });
  return [
    [":method", "GET"], [":path", "/status/200"], [":authority", "httpbin.default.svc.cluster.local:8000"], [":scheme", "http"],
    ["user-agent", "curl/8.5.0"], ["accept", "*/*"], ["x-request-id", "6f1a9b2c-1c1e-4a62-9d36-0c1b5f0e9a10"],
    ["x-envoy-peer-metadata-id", "sidecar~10.0.0.7~productpage-v1-6b746f74dc-9stvs.default~default.svc.cluster.local"],
    ["x-envoy-peer-metadata", Buffer.from(peer).toString("base64")],
  ];
}
const responseHeaders: Array<[string, string]> = [["content-type", "text/plain"], ["date", "Fri, 21 Nov 2025 12:00:00 GMT"]];

class StreamLoop {
  localReplies = 0;
  private readonly request: Array<[string, string]>;
  private readonly response: Array<[string, string]>;

  constructor(
    private readonly emu: Emulator,
    readonly plugin: EmulatedPlugin,
    extra: Pick<EmulatedOptions, "requestHeaders" | "responseHeaders"> = {},
  ) {
    this.request = [...requestHeaders(), ...(extra.requestHeaders ?? [])];
    this.response = [...responseHeaders, ...(extra.responseHeaders ?? [])];
  }

  /** Runs `count` streams over 50 downstream connections (autocannon's default load). */
  run(count: number, first: number): void {
    for (let i = 0; i < count; i++) {
      const s = this.emu.newStream({ plugins: [this.plugin], connection: { id: BigInt(1 + ((first + i) % 50)) } });
      s.sendRequestHeaders(this.request, { endStream: true });
      if (s.localReply) this.localReplies++;
      else s.respond({ status: 200, headers: this.response, body: "ok" });
      s.complete();
    }
  }

  time(count: number, first: number): number {
    const start = process.hrtime.bigint();
    this.run(count, first);
    return Number(process.hrtime.bigint() - start) / count;
  }
}


const round = (n: number): number => Math.round(n * 10) / 10;

export async function measureEmulated(name: string, wasm: Uint8Array, o: EmulatedOptions = {}): Promise<EmulatedResult> {
  const streams = o.streams ?? 100_000;
  const warmup = Math.min(o.warmup ?? 10_000, streams);
  const runs = o.runs ?? 7;
  const emu = new Emulator({ logLevel: "warning", node: { id: "sidecar~10.0.0.9~httpbin-1.default~default.svc.cluster.local", metadata: { NAME: "httpbin-1", NAMESPACE: "default", WORKLOAD_NAME: "httpbin" } } });
  if (o.answeringCluster) emu.addCluster(o.answeringCluster, () => ({ status: 200, body: o.answerBody }));
  const vmId = o.vmId ?? name;
  // Envoy runs a singleton WasmService in its own VM on the main thread; a VM configuration of its
  // own gives it one here too, sharing shared data and queues with the plugin through the vm_id
  // (proxy-wasm-abi.md §2.8), as test/migration sets proxy-runtime-singleton up.
  const singleton = o.singleton
    ? await emu.loadPlugin({ wasm, name: `${name}:${o.singleton.rootId}`, rootId: o.singleton.rootId, vmId, vmConfiguration: "main thread", configuration: o.singleton.configuration, concurrency: 1 })
    : null;
  const plugin = await emu.loadPlugin({ wasm, name, rootId: o.rootId ?? name, vmId, configuration: o.configuration, concurrency: 1 });
  const module = new StreamLoop(emu, plugin, o);
  const baseline = new StreamLoop(emu, await emu.loadPlugin({ wasm: await wat(noopPluginWat), name: "noop", rootId: "noop", vmId: "noop", concurrency: 1 }));
  // Timers set at configure fire (a singleton's fetch, the plugin's pick-up) before any stream.
  if (o.settleMs) emu.advance(o.settleMs);

  module.run(warmup, 0);
  baseline.run(warmup, 0);
  const memoryAfterWarmupBytes = module.plugin.memoryBytes(0);
  const perRun = Math.max(1, Math.floor((streams - warmup) / runs));
  const moduleNs: number[] = [];
  const baselineNs: number[] = [];
  for (let r = 0; r < runs; r++) {
    // Alternate which side goes first, so drift hits both alike.
    const first = warmup + r * perRun;
    if (r % 2 === 0) {
      moduleNs.push(module.time(perRun, first));
      baselineNs.push(baseline.time(perRun, first));
    } else {
      baselineNs.push(baseline.time(perRun, first));
      moduleNs.push(module.time(perRun, first));
    }
  }
  const done = warmup + runs * perRun;
  if (done < streams) module.run(streams - done, done);
  const memoryAfterStreamsBytes = module.plugin.memoryBytes(0);
  if (module.plugin.failed(0) || singleton?.failed(0)) throw new Error(`${name}: the VM failed during the run: ${emu.logs("error").concat(emu.logs("critical")).join(" | ")}`);
  await emu.shutdown();
  const ns = median(moduleNs);
  const baselineMedian = median(baselineNs);
  return {
    ns: round(ns),
    baselineNs: round(baselineMedian),
    deltaNs: round(ns - baselineMedian),
    streams,
    memoryAfterWarmupBytes,
    memoryAfterStreamsBytes,
    growthBytes: memoryAfterStreamsBytes - memoryAfterWarmupBytes,
    localReplies: module.localReplies,
  };
}

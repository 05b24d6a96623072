// Custom metrics (proxy-wasm-abi.md §2.9; Envoy Context::defineMetric & co.): stats named
// `wasmcustom.<name>`, ids with the type in the low 2 bits (counters 4, 8, …; gauges 5, 9, …;
// histograms 6, 10, …), per VM.
import { MetricType, WasmResult } from "../types.js";
import type { WasmVm } from "../vm.js";
import { readUtf8, type HostFunctions } from "./common.js";

/** Envoy's CustomStatNamespace for Wasm metrics. */
export const customStatNamespace = "wasmcustom";

const typeOf = (id: number): number => id & 3;

export const metricHostFunctions: HostFunctions = {
  proxy_define_metric(vm: WasmVm, type: number, namePtr: number, nameSize: number, idPtr: number): number {
    const name = readUtf8(vm, namePtr, nameSize);
    if (name === null) return WasmResult.InvalidMemoryAccess;
    if (type > MetricType.Histogram) return WasmResult.BadArgument;
    const stats = vm.integration.server.stats;
    const full = `${customStatNamespace}.${name}`;
    const id = vm.nextMetricId(type as 0 | 1 | 2);
    if (type === MetricType.Counter) vm.metrics.set(id, { type, stat: stats.counter(full) });
    else if (type === MetricType.Gauge) vm.metrics.set(id, { type, stat: stats.gauge(full) });
    else vm.metrics.set(id, { type: MetricType.Histogram, stat: stats.histogram(full, "unspecified") });
    return vm.setWord(idPtr, id) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },

  // Counters need offset > 0; gauges add or subtract; histograms cannot be incremented.
  proxy_increment_metric(vm: WasmVm, id: number, offset: bigint): number {
    const type = typeOf(id);
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
    const m = vm.metrics.get(id);
    if (!m) return WasmResult.NotFound;
    const by = BigInt.asIntN(64, offset);
    if (m.type === MetricType.Counter) {
      if (by <= 0n) return WasmResult.BadArgument;
      m.stat.inc(by);
    } else if (m.type === MetricType.Gauge) {
      if (by > 0n) m.stat.add(by);
      else m.stat.sub(-by);
    }
    return WasmResult.Ok;
  },

  // Counter: add; gauge: set; histogram: record.
  proxy_record_metric(vm: WasmVm, id: number, value: bigint): number {
    const m = vm.metrics.get(id);
    if (!m || m.type !== typeOf(id)) return WasmResult.NotFound;
    const v = BigInt.asUintN(64, value);
    if (m.type === MetricType.Counter) m.stat.inc(v);
    else if (m.type === MetricType.Gauge) m.stat.set(v);
    else m.stat.record(Number(v));
    return WasmResult.Ok;
  },

  proxy_get_metric(vm: WasmVm, id: number, resultPtr: number): number {
    const type = typeOf(id);
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
    const m = vm.metrics.get(id);
    if (!m || m.type === MetricType.Histogram) return WasmResult.NotFound;
    return vm.setU64(resultPtr, m.stat.value) ? WasmResult.Ok : WasmResult.InvalidMemoryAccess;
  },
};

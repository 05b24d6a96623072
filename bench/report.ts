// The bench's printed tables (bench/results.json holds the same data).
import { median } from "./median.js";
import type { BenchResults } from "./run.js";

function table(title: string, header: string[], rows: string[][]): void {
  // Column widths from the full rows, and from the cells before a short row's note.
  const widths = header.map((h, i) => Math.max(h.length, ...rows.filter((r) => r.length >= header.length || i < r.length - 1).map((r) => (r[i] ?? "").length)));
  const pad = (c: string, i: number): string => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!));
  // A row shorter than the header ends with a "not measured" note, printed as is.
  const line = (cells: string[]): string =>
    cells.length < header.length ? [...cells.slice(0, -1).map(pad), cells[cells.length - 1]!].join("  ") : cells.map(pad).join("  ");
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) console.log(line(r));
}

const signed = (n: number): string => (n >= 0 ? `+${n}` : String(n));

const or = <T extends object>(r: T | { notMeasured: string }, f: (v: T) => string[]): string[] =>
  "notMeasured" in r ? [`not measured: ${(r as { notMeasured: string }).notMeasured}`] : f(r as T);

export function printReport(r: BenchResults): void {
  console.log(`bench ${r.quick ? "(quick) " : ""}${r.generatedAt} — node ${r.machine.node}, ${r.machine.cpus} × ${r.machine.model}, load ${r.machine.loadAverage.join(" ")}`);
  table(
    "Per request, minimal host (bench/lifecycle.ts): module vs hand-written WAT floor, same run",
    ["module", "size B", "module ns", "floor ns", "Δ ns", "ratio", "host calls"],
    r.modules.map((m) => [m.name, String(m.sizeBytes), ...or(m.lifecycle, (l) => [String(l.moduleNs), String(l.floorNs), signed(l.deltaNs), `${l.ratio.toFixed(2)}×`, String(l.hostCallsPerRequest)])]),
  );
  table(
    "Per stream in the real host (emulator), vs a no-op plugin; linear memory after warm-up and at the end",
    ["module", "ns", "no-op ns", "Δ ns", "streams", "memory warm B", "memory end B", "growth B"],
    r.modules.map((m) => [
      m.name,
      ...or(m.emulated, (e) => [String(e.ns), String(e.baselineNs), signed(e.deltaNs), String(e.streams), String(e.memoryAfterWarmupBytes), String(e.memoryAfterStreamsBytes), String(e.growthBytes)]),
    ]),
  );
  table(
    "Instructions per request (callgrind, node --single-threaded)",
    ["module", "module", "floor", "Δ", "repeats", "±1%"],
    r.modules.map((m) => [m.name, ...or(m.instructions, (c) => [String(c.moduleInstructions), String(c.floorInstructions), signed(c.deltaInstructions), c.repeats.join(" / "), c.repeatable ? "yes" : "NO"])]),
  );
  printThroughput("Local proxy", r.throughput, true);
  printThroughput("Envoy (ENVOY_BIN)", r.envoyThroughput, false);
  table("Targets (reported, not enforced)", ["target", "measured", "status"], r.targets.map((t) => [t.target, t.measured, t.status]));
}

/**
 * One proxy's throughput comparison: a row per configuration and load, then the ratios.
 * `oneThread`: the proxy runs all its workers on one thread (the local proxy; Envoy gives each its own).
 */
function printThroughput(proxy: string, comparison: BenchResults["throughput"], oneThread: boolean): void {
  if ("notMeasured" in comparison) console.log(`\n${proxy} throughput: not measured: ${comparison.notMeasured}`);
  else {
    const t = comparison;
    // One row per configuration and load (medians over its interleaved runs; every run is in
    // results.json).
    const groups = new Map<string, typeof t.runs>();
    for (const x of t.runs) {
      const key = `${x.name}\0${x.offeredRate ?? "max"}`;
      groups.set(key, [...(groups.get(key) ?? []), x]);
    }
    table(
      `${proxy} throughput (autocannon, ${t.runs[0]!.connections} connections, interleaved runs of ${t.runs[0]!.durationSec} s): ` +
        `suite/bare ${t.ratio} (median of rounds ${t.roundRatios.join(", ")}), cost ${(t.cost * 100).toFixed(1)}%`,
      ["run", "offered req/s", "runs", "req/s median", "req/s range", "p50 ms", "p99 ms", "proxy CPU µs/req", "errors", "non-2xx", "filters"],
      [...groups.values()].map((g) => {
        const x = g[0]!;
        const rates = g.map((y) => y.requestsPerSec);
        const cpu = g.filter((y) => y.proxyCpuUsPerRequest !== undefined).map((y) => y.proxyCpuUsPerRequest!);
        return [
          x.name, x.offeredRate === undefined ? "max" : String(x.offeredRate), String(g.length), median(rates).toFixed(0),
          `${Math.min(...rates).toFixed(0)}–${Math.max(...rates).toFixed(0)}`, String(median(g.map((y) => y.latencyP50Ms))),
          String(median(g.map((y) => y.latencyP99Ms))), cpu.length ? median(cpu).toFixed(1) : "-",
          String(g.reduce((n, y) => n + y.errors + y.timeouts, 0)), String(g.reduce((n, y) => n + y.non2xx, 0)), x.filters.join(", ") || "-",
        ];
      }),
    );
    if (t.noopRatio !== undefined) {
      console.log(
        `No-op Wasm filters in the suite's place cost ${((1 - t.noopRatio) * 100).toFixed(1)}% of the throughput (ratio ${t.noopRatio}): ` +
          "the host's per-filter plumbing, before any filter work.",
      );
    }
    if (t.floorRatio !== undefined) {
      console.log(
        `The suite's hand-written WAT floors in its place cost ${((1 - t.floorRatio) * 100).toFixed(1)}% (ratio ${t.floorRatio}): ` +
          "the plumbing plus the suite's own host calls, with no SDK or filter logic.",
      );
    }
    if (t.equalLoad) {
      const e = t.equalLoad;
      console.log(
        `At the same offered load (${e.offeredRate} req/s) the suite adds ${(e.suiteCpuUsPerRequest - e.bareCpuUsPerRequest).toFixed(1)} µs of proxy CPU ` +
          `per request (${e.bareCpuUsPerRequest.toFixed(1)} → ${e.suiteCpuUsPerRequest.toFixed(1)}).`,
      );
      if (oneThread && e.bareMachineCpuUsPerRequest !== undefined && e.suiteMachineCpuUsPerRequest !== undefined) {
        const machineRatio = e.bareMachineCpuUsPerRequest / e.suiteMachineCpuUsPerRequest;
        console.log(
          `With the upstream's and autocannon's CPU, the whole machine spends ${e.bareMachineCpuUsPerRequest.toFixed(1)} → ` +
            `${e.suiteMachineCpuUsPerRequest.toFixed(1)} µs per request: a proxy bound by the machine's CPU rather than by its one ` +
            `thread would lose about ${((1 - machineRatio) * 100).toFixed(1)}% of its throughput to the suite (ratio ${machineRatio.toFixed(3)}).`,
        );
      }
    }
  }
}

// Starts real Envoy with a config from envoy/ and hands the scenarios a target:
//   ENVOY_BIN set      → that binary, on free loopback ports, httpbin from gunicorn
//                        (--base-id per run and --disable-hot-restart, so runs never share
//                        shared memory; stopped with POST /quitquitquit, then killed);
//   a Docker engine    → compose.yaml through the docker-compose npm package (upAll / down);
//   neither            → a reason to skip.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as compose from "docker-compose";
import { parse, stringify } from "yaml";
import { projectRoot } from "../../host/build.js";
import { parseStats, type ScenarioTarget } from "../scenarios/target.js";
import { freeLoopbackPort } from "../support/registry.js";
import { listenerNames, rewriteForLocalRun } from "./bootstrap.js";
import { startHttpbin } from "./httpbin.js";

export type EnvoyMode = { mode: "binary"; bin: string } | { mode: "compose" } | { mode: "skip"; reason: string };

export interface RunningEnvoy {
  target: ScenarioTarget;
  /** Envoy's output so far (for diagnostics). */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export async function detectEnvoy(env: NodeJS.ProcessEnv = process.env): Promise<EnvoyMode> {
  if (env.ENVOY_BIN) {
    try {
      accessSync(env.ENVOY_BIN, constants.X_OK);
    } catch {
      return { mode: "skip", reason: `ENVOY_BIN=${env.ENVOY_BIN} is not an executable file` };
    }
    return { mode: "binary", bin: env.ENVOY_BIN };
  }
  try {
    await promisify(execFile)("docker", ["info", "--format", "{{.ServerVersion}}"], { timeout: 15_000 });
    return { mode: "compose" };
  } catch (e) {
    const why = ((e as { stderr?: string }).stderr || (e as Error).message).trim().split("\n")[0];
    return { mode: "skip", reason: `no Envoy: set ENVOY_BIN to an envoy binary or run a Docker engine for compose.yaml (docker info: ${why})` };
  }
}

function statsOf(adminUrl: string): () => Promise<Map<string, number>> {
  return async () => parseStats(await (await fetch(`${adminUrl}/stats`)).text());
}

async function waitReady(adminUrl: string, exited: () => boolean, logs: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`envoy exited before it was ready:\n${logs().slice(-4000)}`);
    try {
      const res = await fetch(`${adminUrl}/ready`);
      if (res.status === 200 && (await res.text()).trim() === "LIVE") return;
    } catch {
      // admin not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`envoy admin ${adminUrl}/ready did not say LIVE within ${timeoutMs} ms:\n${logs().slice(-4000)}`);
}

const envoyFlags = ["--concurrency", "2", "--component-log-level", "wasm:debug"];

/** An Envoy binary started on a config file and ready (its admin says LIVE). */
export interface LaunchedEnvoy {
  proc: ChildProcess;
  adminUrl: string;
  /** Envoy's output so far. */
  logs(): string;
  /** POST /quitquitquit, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Hot-restart base ids given out by this process: one per Envoy it runs at the same time. */
let launches = 0;

/**
 * Starts `bin -c configFile` with the given flags and waits for its admin (at adminPort, which the
 * config must name) to say LIVE. Each launch gets its own --base-id and --disable-hot-restart, so
 * Envoys started side by side (the scenarios, the throughput bench) never share shared memory.
 */
export async function launchEnvoy(bin: string, configFile: string, adminPort: number, flags: string[]): Promise<LaunchedEnvoy> {
  const baseId = 10_000 + ((process.pid * 16 + launches++) % 1_000_000);
  // From the repository root, as docs/deploy.md runs it (module paths are absolute here anyway).
  const proc = spawn(bin, ["-c", configFile, "--base-id", String(baseId), "--disable-hot-restart", ...flags], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const stop = async () => {
    if (exited()) return;
    const gone = new Promise((r) => proc.once("exit", r));
    await fetch(`${adminUrl}/quitquitquit`, { method: "POST" }).catch(() => undefined);
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  };
  try {
    await waitReady(adminUrl, exited, () => log, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { proc, adminUrl, logs: () => log, stop };
}

export async function startEnvoyBinary(bin: string, configName: string): Promise<RunningEnvoy> {
  const source = parse(readFileSync(join(projectRoot, "envoy", configName), "utf8")) as Record<string, unknown>;
  const httpbin = await startHttpbin();
  const dir = mkdtempSync(join(tmpdir(), "envoy-run-"));
  const cleanup = async () => {
    await httpbin.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const adminPort = await freeLoopbackPort();
    const listenerPorts: Record<string, number> = {};
    for (const name of listenerNames(source)) listenerPorts[name] = await freeLoopbackPort();
    // Every config in envoy/ names httpbin 127.0.0.1:8000 (docs/deploy.md).
    const config = rewriteForLocalRun(source, { adminPort, listenerPorts, endpoints: { "127.0.0.1": { address: "127.0.0.1", port: httpbin.port } }, root: projectRoot });
    const file = join(dir, configName);
    writeFileSync(file, stringify(config));
    const envoy = await launchEnvoy(bin, file, adminPort, envoyFlags);
    const listener = Object.values(listenerPorts)[0]!;
    const target: ScenarioTarget = { name: "envoy-binary", baseUrl: `http://127.0.0.1:${listener}`, adminUrl: envoy.adminUrl, stats: statsOf(envoy.adminUrl) };
    return {
      target,
      logs: async () => envoy.logs(),
      stop: async () => {
        await envoy.stop();
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

export async function startCompose(configName: string): Promise<RunningEnvoy> {
  const adminPort = await freeLoopbackPort();
  const listenerPort = await freeLoopbackPort();
  const options = {
    cwd: projectRoot,
    config: "compose.yaml",
    env: {
      ...process.env,
      ENVOY_CONFIG: configName,
      ENVOY_PUBLISH_ADMIN: `127.0.0.1:${adminPort}`,
      ENVOY_PUBLISH_LISTENER: `127.0.0.1:${listenerPort}`,
    },
  };
  const logs = async () => (await compose.logs(["envoy"], options).catch((e: Error) => ({ out: e.message }))).out;
  let lastLogs = "";
  const stop = async () => {
    lastLogs = await logs();
    await compose.down({ ...options, commandOptions: ["--volumes", "--remove-orphans"] });
  };
  try {
    await compose.upAll(options);
    const adminUrl = `http://127.0.0.1:${adminPort}`;
    await waitReady(adminUrl, () => false, () => lastLogs, 120_000);
    const target: ScenarioTarget = { name: "compose", baseUrl: `http://127.0.0.1:${listenerPort}`, adminUrl, stats: statsOf(adminUrl) };
    return { target, logs, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw new Error(`${(e as Error).message ?? JSON.stringify(e)}\n${lastLogs.slice(-4000)}`);
  }
}

export function startEnvoy(mode: Exclude<EnvoyMode, { mode: "skip" }>, configName: string): Promise<RunningEnvoy> {
  return mode.mode === "binary" ? startEnvoyBinary(mode.bin, configName) : startCompose(configName);
}

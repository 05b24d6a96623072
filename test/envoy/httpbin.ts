// python3-httpbin behind gunicorn on a free loopback port: the upstream for an envoy binary run
// (compose.yaml uses the go-httpbin container instead).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { freeLoopbackPort } from "../support/registry.js";

export async function startHttpbin(): Promise<{ port: number; stop(): Promise<void> }> {
  const gunicorn = ["/usr/bin/gunicorn", "/usr/bin/gunicorn3"].find((p) => existsSync(p)) ?? "gunicorn";
  const port = await freeLoopbackPort();
  const proc = spawn(gunicorn, ["-b", `127.0.0.1:${port}`, "-w", "1", "httpbin:app"], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`gunicorn httpbin:app exited with ${proc.exitCode}:\n${log}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/status/200`)).status === 200) return { port, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`httpbin did not start on 127.0.0.1:${port}:\n${log}`);
}

// Debian's python3-httpbin behind gunicorn on an ephemeral loopback port (gunicorn binds port 0 and
// reports the port it got), with threads so /delay/N does not block other requests. Tests that
// need it call httpbinUnavailable() and skip with its message when gunicorn or httpbin is missing.
import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";

const gunicornPaths = ["/usr/bin/gunicorn", "/usr/bin/gunicorn3"];

function gunicorn(): string | undefined {
  return gunicornPaths.find((p) => existsSync(p));
}

let unavailable: string | undefined | null = null;

/** Why httpbin cannot run here (for t.skip), or undefined when it can. */
export function httpbinUnavailable(): string | undefined {
  if (unavailable !== null) return unavailable;
  const bin = gunicorn();
  if (!bin) return (unavailable = "gunicorn is not installed (apt-get install gunicorn python3-httpbin)");
  try {
    // gunicorn's own interpreter must be able to import httpbin.
    const python = /^#!(\S+)/.exec(execFileSync("head", ["-1", bin], { encoding: "utf8" }))?.[1] ?? "python3";
    execFileSync(python, ["-c", "import httpbin"], { stdio: "ignore" });
    unavailable = undefined;
  } catch {
    unavailable = "python3-httpbin is not installed (apt-get install python3-httpbin)";
  }
  return unavailable;
}

export interface Httpbin {
  address: "127.0.0.1";
  port: number;
  url: string;
  stop(): Promise<void>;
}

export async function startHttpbin(): Promise<Httpbin> {
  const why = httpbinUnavailable();
  if (why) throw new Error(why);
  // A long keep-alive keeps pooled upstream connections from being closed under a test.
  const proc = spawn(gunicorn()!, ["-b", "127.0.0.1:0", "-w", "2", "--threads", "8", "--keep-alive", "75", "--graceful-timeout", "1", "httpbin:app"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  };
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gunicorn did not report its port within 15 s:\n${log}`)), 15_000);
    proc.stderr!.on("data", (d: Buffer) => {
      log += d.toString();
      const m = /Listening at: http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`gunicorn httpbin:app exited with ${code}:\n${log}`));
    });
  }).catch(async (e) => {
    await stop();
    throw e;
  });
  const url = `http://127.0.0.1:${port}`;
  // The master binds before the workers boot: wait until one answers.
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/status/200`)).status === 200) break;
    } catch {
      // workers still booting
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`httpbin on ${url} did not answer within 15 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { address: "127.0.0.1", port, url, stop };
}

// `npm start`: the README's quick start. Runs httpbin on 127.0.0.1:8000 (Debian's python3-httpbin
// under gunicorn) when it is installed and nothing answers there yet, then the local proxy with the
// given Envoy options (package.json passes -c envoy/envoy.yaml), and stops httpbin on exit.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { OptionsError, parseEnvoyOptions } from "../config/cli-options.js";
import { runProxy } from "../cli/run.js";

const HTTPBIN = { host: "127.0.0.1", port: 8000 };

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

async function startHttpbin(): Promise<ChildProcess | undefined> {
  const url = `http://${HTTPBIN.host}:${HTTPBIN.port}/status/200`;
  if (await answers(url)) {
    console.error(`httpbin: using the server already answering on ${HTTPBIN.host}:${HTTPBIN.port}`);
    return undefined;
  }
  const gunicorn = ["/usr/bin/gunicorn", "/usr/bin/gunicorn3"].find((p) => existsSync(p));
  if (!gunicorn) {
    console.error("httpbin: gunicorn is not installed (apt-get install gunicorn python3-httpbin); the proxy's upstream will be unreachable");
    return undefined;
  }
  const proc = spawn(gunicorn, ["-b", `${HTTPBIN.host}:${HTTPBIN.port}`, "-w", "2", "--threads", "8", "httpbin:app"], { stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 100 && proc.exitCode === null; i++) {
    if (await answers(url)) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error("httpbin: gunicorn httpbin:app did not start (is python3-httpbin installed?)");
  proc.kill();
  return undefined;
}

async function main(): Promise<number> {
  let options;
  try {
    options = parseEnvoyOptions(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof OptionsError)) throw e;
    console.error(`npm start: ${e.message}`);
    return 1;
  }
  const httpbin = await startHttpbin();
  try {
    return await runProxy(options);
  } finally {
    httpbin?.kill("SIGTERM");
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: Error) => {
    console.error(`npm start: ${e.message}`);
    process.exitCode = 1;
  },
);

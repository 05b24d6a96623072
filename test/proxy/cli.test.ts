// `proxy-wasm validate` and `proxy-wasm run` as processes: Envoy's messages and exit codes for
// good and bad configurations, Envoy-shaped logs on stderr, and graceful shutdown on SIGTERM and
// POST /quitquitquit.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { probe } from "../host/wat-kit.js";
import { modulePath, projectRoot } from "../support/modules.js";
import { bootstrap } from "../support/proxy.js";

const cli = new URL("../../host/cli.js", import.meta.url).pathname;
const configs = new URL("../../../test/proxy/configs/", import.meta.url).pathname;
const exec = promisify(execFile);

async function proxyWasm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Starts `proxy-wasm run`, resolving once it logs "starting main dispatch loop". */
function runProxy(...args: string[]): Promise<{ child: ChildProcess; stderr: () => string; admin: string; listener: string; exited: Promise<number> }> {
  const child = spawn(process.execPath, [cli, "run", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  children.push(child);
  let stderr = "";
  const exited = new Promise<number>((resolve) => child.once("exit", (code) => resolve(code ?? -1)));
  return new Promise((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("starting main dispatch loop")) {
        const admin = /admin address: (\S+)/.exec(stderr)?.[1] ?? "";
        const listener = /listening on (\S+)/.exec(stderr)?.[1] ?? "";
        resolve({ child, stderr: () => stderr, admin: `http://${admin}`, listener: `http://${listener}`, exited });
      }
    });
    void exited.then((code) => reject(new Error(`proxy-wasm run exited with ${code}:\n${stderr}`)));
    setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`proxy-wasm run did not start within 15 s:\n${stderr}`));
    }, 15_000).unref();
  });
}

describe("proxy-wasm validate", () => {
  test("a valid configuration: \"configuration '<file>' OK\" and exit 0", async () => {
    const r = await proxyWasm("validate", "-c", `${configs}simple.yaml`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `configuration '${configs}simple.yaml' OK\n`);
  });

  test("the shipped envoy/envoy.yaml (npm start) validates from the repository root", async () => {
    await modulePath("add-header");
    const { stdout } = await exec(process.execPath, [cli, "validate", "-c", "envoy/envoy.yaml"], { cwd: projectRoot });
    assert.equal(stdout, "configuration 'envoy/envoy.yaml' OK\n");
  });

  test("an unknown field: the error with its JSON path and exit 1", async () => {
    const r = await proxyWasm("validate", "-c", `${configs}bad-unknown-field.yaml`);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `error initializing configuration '${configs}bad-unknown-field.yaml': static_resources.clusters[0].conect_timeout: Cannot find field (in envoy.config.cluster.v3.Cluster)\n`);
  });

  test("--config-yaml alone, merged over -c, and Envoy's message without either", async () => {
    const ok = await proxyWasm("validate", "-c", `${configs}simple.yaml`, "--config-yaml", "admin: {address: {socket_address: {port_value: 9902}}}");
    assert.equal(ok.code, 0, ok.stderr);
    const none = await proxyWasm("validate");
    assert.equal(none.code, 1);
    assert.match(none.stderr, /At least one of --config-path or --config-yaml or Options::configProto\(\) should be non-empty/);
  });
});

describe("proxy-wasm run", () => {
  test("bad configurations fail fast, naming the cause, with exit code 1", async () => {
    for (const [file, cause] of [
      ["bad-unknown-field.yaml", /static_resources\.clusters\[0\]\.conect_timeout: Cannot find field/],
      ["bad-wrong-type.yaml", /static_resources\.listeners\[0\]\.address\.socket_address\.port_value: expected an integer \(uint32\), got string/],
      ["bad-missing-wasm.yaml", /Wasm module file "\/nonexistent\/missing-filter\.wasm" does not exist/],
    ] as const) {
      const r = await proxyWasm("run", "-c", `${configs}${file}`);
      assert.equal(r.code, 1, file);
      assert.match(r.stderr, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\]\[\d+\]\[critical\]\[main\] error initializing configuration '/m, file);
      assert.match(r.stderr, cause, file);
    }
  });

  test("a module whose on_configure fails stops startup with exit code 1", async () => {
    const b = bootstrap(1, { routes: [{ match: { prefix: "/" }, direct_response: { status: 200 } }] }) as any;
    const bytes = await probe({ callbacks: { proxy_on_configure: "(i32.const 0)" } });
    b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters.unshift({
      name: "envoy.filters.http.wasm",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
        config: { name: "bad_configure", vm_config: { runtime: "envoy.wasm.runtime.v8", code: { local: { inline_bytes: Buffer.from(bytes).toString("base64") } } } },
      },
    });
    const file = join(mkdtempSync(join(tmpdir(), "proxy-cli-")), "on-configure-fails.yaml");
    writeFileSync(file, stringify(b));
    const r = await proxyWasm("run", "-c", file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[critical\]\[wasm\] Plugin bad_configure failed to load/);
    assert.match(r.stderr, /Unable to create Wasm HTTP filter bad_configure: Failed to configure base Wasm plugin/);
  });

  test("unknown options are refused by name", async () => {
    const r = await proxyWasm("run", "-c", `${configs}ephemeral.yaml`, "--hot-restart-magic");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unknown option --hot-restart-magic/);
  });

  test("serves, logs in Envoy's format, and shuts down gracefully on SIGTERM (exit 0)", async () => {
    const p = await runProxy("-c", `${configs}ephemeral.yaml`, "--concurrency", "2", "--component-log-level", "http:debug", "--base-id", "1", "--disable-hot-restart");
    const res = await fetch(`${p.listener}/x`);
    assert.equal(await res.text(), "direct\n");
    assert.equal(await (await fetch(`${p.admin}/ready`)).text(), "LIVE\n");
    const info = (await (await fetch(`${p.admin}/server_info`)).json()) as { command_line_options: { concurrency: number }; state: string };
    assert.equal(info.command_line_options.concurrency, 2);
    assert.equal(info.state, "LIVE");
    p.child.kill("SIGTERM");
    assert.equal(await p.exited, 0);
    const log = p.stderr();
    for (const line of ["initializing epoch 0", "all dependencies initialized. starting workers", "starting main dispatch loop", "caught SIGTERM", "exiting"]) {
      assert.match(log, new RegExp(`^\\[[^\\]]+\\]\\[\\d+\\]\\[\\w+\\]\\[main\\] ${line}`, "m"), line);
    }
    assert.match(log, /\]\[debug\]\[http\] request headers complete/, "--component-log-level http:debug");
  });

  test("POST /quitquitquit stops the server (exit 0); GET is refused as Envoy does", async () => {
    const p = await runProxy("-c", `${configs}ephemeral.yaml`, "-l", "warning", "--component-log-level", "main:info");
    const get = await fetch(`${p.admin}/quitquitquit`);
    assert.equal(get.status, 405);
    assert.equal(await get.text(), "Method GET not allowed, POST required.");
    const post = await fetch(`${p.admin}/quitquitquit`, { method: "POST" });
    assert.equal(await post.text(), "OK\n");
    assert.equal(await p.exited, 0);
  });
});

// Every module in build/ must link in Envoy unchanged: imports only from ABI 0.2.1 and the WASI
// functions Envoy provides (proxy-wasm-abi.md §2, §2.12), with their exact signatures; no
// AssemblyScript runtime imports (env.abort / env.trace / env.seed, §8.1); the 0.2.1 marker as the
// first ABI marker (§1.1); exact signatures for every callback Envoy looks up (§3); an allocator
// under both names; `_initialize`; and an exported memory.
// Test fixtures in build/test/ that export no ABI marker at all are codec probes driven directly
// from node, not plugins: only their imports are checked (they still link against the same host).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, it } from "node:test";
import { abiMarkers, formatSignature, hostImports, moduleExports, sameSignature } from "../../host/wasm/abi.js";
import { readModuleInfo, type ModuleInfo } from "../../host/wasm/module-info.js";
import { buildDir, projectRoot } from "../support/modules.js";

function wasmFiles(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(wasmFiles(p));
    else if (e.endsWith(".wasm")) out.push(p);
  }
  return out.sort();
}

const allowedImports = hostImports("0.2.1");
const callbacks = moduleExports("0.2.1");
const files = wasmFiles(buildDir);

const isMarker = (name: string): boolean => abiMarkers.some(([m]) => m === name);

/** A build/test/ module without any ABI marker: a probe, not a plugin. */
function isProbe(file: string, info: ModuleInfo): boolean {
  return relative(buildDir, file).startsWith(`test${sep}`) && !info.exports.some((e) => isMarker(e.name));
}

/** Import problems only (what a probe must still get right). */
function importProblems(info: ModuleInfo): string[] {
  return surfaceProblems(info).filter((p) => p.startsWith("imports "));
}

/** Problems of one module, each naming the import/export at fault. */
function surfaceProblems(info: ModuleInfo): string[] {
  const problems: string[] = [];
  for (const imp of info.imports) {
    const name = `${imp.module}.${imp.name}`;
    if (imp.kind !== "function") {
      // Envoy accepts an imported memory or table, nothing else (a global import fails to link).
      if (imp.kind !== "memory" && imp.kind !== "table") problems.push(`imports ${imp.kind} ${name}, which Envoy does not provide`);
      continue;
    }
    if (name === "env.abort" || name === "env.trace" || name === "env.seed") {
      problems.push(`imports ${name} (AssemblyScript runtime import; Envoy fails with "missing import: ${name}")`);
      continue;
    }
    const want = allowedImports.get(name);
    if (!want) problems.push(`imports ${name}, which is not in proxy-wasm ABI 0.2.1 or Envoy's WASI set`);
    else if (!sameSignature(want, imp.signature!)) {
      problems.push(`imports ${name} as ${formatSignature(imp.signature!)}, Envoy provides ${formatSignature(want)}`);
    }
  }
  const functionExports = info.exports.filter((e) => e.kind === "function");
  const marker = functionExports.find((e) => isMarker(e.name));
  if (!marker) problems.push("exports no ABI marker (Envoy: \"Missing or unknown Proxy-Wasm ABI version\")");
  else if (marker.name !== "proxy_abi_version_0_2_1") problems.push(`first ABI marker is ${marker.name}, not proxy_abi_version_0_2_1`);
  for (const e of functionExports) {
    const want = callbacks.get(e.name);
    if (want && !sameSignature(want, e.signature!)) {
      problems.push(`exports ${e.name} as ${formatSignature(e.signature!)}, Envoy wants ${formatSignature(want)}`);
    }
  }
  for (const required of ["malloc", "proxy_on_memory_allocate", "_initialize"]) {
    if (!functionExports.some((e) => e.name === required)) problems.push(`does not export ${required}`);
  }
  if (!info.exports.some((e) => e.kind === "memory") && !info.imports.some((i) => i.kind === "memory")) {
    problems.push("has no memory (neither exported nor imported)");
  }
  return problems;
}

describe("ABI surface of every module in build/", () => {
  it("finds modules to check", () => {
    assert.ok(
      files.length > 0,
      `no .wasm files under ${relative(projectRoot, buildDir) || "build"}/: run \`npm run build\` before the tests`,
    );
    assert.ok(
      files.some((f) => f.endsWith(join("build", "add-header.wasm"))),
      "build/add-header.wasm is missing: the example must always be built",
    );
  });

  for (const file of files) {
    let info: ModuleInfo;
    try {
      info = readModuleInfo(readFileSync(file));
    } catch (e) {
      it(relative(projectRoot, file), () => assert.fail(`${relative(projectRoot, file)} is not a readable module: ${(e as Error).message}`));
      continue;
    }
    const probe = isProbe(file, info);
    it(`${relative(projectRoot, file)}${probe ? " (probe: imports only)" : ""}`, () => {
      const problems = probe ? importProblems(info) : surfaceProblems(info);
      assert.deepEqual(problems, [], `${relative(projectRoot, file)}:\n  ${problems.join("\n  ")}`);
    });
  }

  // The checker itself must catch each kind of violation: feed it deliberately wrong modules.
  it("rejects env.abort, foreign imports, wrong signatures and a missing marker", async () => {
    const { wat } = await import("../support/wat.js");
    const bad = await wat(`(module
      (import "env" "abort" (func (param i32 i32 i32 i32)))
      (import "env" "proxy_log" (func (param i32 i32 i32)))
      (import "env" "proxy_made_up" (func))
      (import "wasi_snapshot_preview1" "clock_time_get" (func (param i32 i64 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "proxy_abi_version_0_1_0"))
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0))
      (func (export "malloc") (param i32) (result i32) (i32.const 0)))`);
    const problems = surfaceProblems(readModuleInfo(bad));
    assert.deepEqual(problems, [
      'imports env.abort (AssemblyScript runtime import; Envoy fails with "missing import: env.abort")',
      "imports env.proxy_log as (i32, i32, i32) -> (), Envoy provides (i32, i32, i32) -> (i32)",
      "imports env.proxy_made_up, which is not in proxy-wasm ABI 0.2.1 or Envoy's WASI set",
      "first ABI marker is proxy_abi_version_0_1_0, not proxy_abi_version_0_2_1",
      "exports proxy_on_request_headers as (i32, i32) -> (i32), Envoy wants (i32, i32, i32) -> (i32)",
      "does not export proxy_on_memory_allocate",
      "does not export _initialize",
    ]);
    const none = await wat(`(module (func (export "_initialize")))`);
    assert.ok(surfaceProblems(readModuleInfo(none)).includes('exports no ABI marker (Envoy: "Missing or unknown Proxy-Wasm ABI version")'));
  });
});

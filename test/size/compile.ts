// Compiles one AssemblyScript entry with the project's asconfig.json and chosen transforms into a
// temporary directory, for tests that compare builds of the same source (with and without a pass,
// normal or GC stress). Returns the binary and, with names kept, its text.
import asc from "assemblyscript/asc";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../host/build.js";

export interface Compiled {
  binary: Uint8Array;
  /** WebAssembly text with function names (`--debug` keeps them; optimization is the same). */
  text: string;
}

export async function compileEntry(
  entry: string, options: { target?: "release" | "debug"; args?: string[]; transforms?: object[] } = {},
): Promise<Compiled> {
  const dir = mkdtempSync(join(tmpdir(), "proxy-wasm-as-size-"));
  try {
    let stderr = "";
    const { error } = await asc.main(
      [
        join(projectRoot, entry), "--config", join(projectRoot, "asconfig.json"), "--target", options.target ?? "release",
        "--debug", "--outFile", join(dir, "out.wasm"), "--textFile", join(dir, "out.wat"), ...(options.args ?? []),
      ],
      {
        stdout: { write: () => true } as never,
        stderr: { write: (s: string | Uint8Array) => ((stderr += String(s)), true) } as never,
        transforms: (options.transforms ?? []) as never,
      },
    );
    if (error) throw new Error(`${entry} failed to compile:\n${stderr || error.message}`);
    return { binary: readFileSync(join(dir, "out.wasm")), text: readFileSync(join(dir, "out.wat"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

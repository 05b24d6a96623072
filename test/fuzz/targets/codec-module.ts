// Loads the codec-fuzz module (test/fuzz/modules/codec-fuzz) and calls one of its targets: the
// input is copied into the module's input buffer, the target's result and output buffer come back.
// A trap becomes a Finding carrying the SDK's abort message (logged through proxy_log) if any.
import { readFileSync } from "node:fs";
import { modulePath } from "../../support/modules.js";
import { Finding } from "./types.js";

export const codecModuleName = "codec-fuzz";

interface CodecExports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  input(size: number): number;
  outputPtr(): number;
  outputLength(): number;
  [target: string]: unknown;
}

export interface CodecCall {
  result: number;
  output: Buffer;
}

export class CodecModule {
  private lastLog = "";

  private constructor(private readonly exports: CodecExports) {}

  static async open(): Promise<CodecModule> {
    const module = await WebAssembly.compile(readFileSync(await modulePath(codecModuleName)));
    let self: CodecModule | null = null;
    const instance = new WebAssembly.Instance(module, {
      env: {
        proxy_log: (_level: number, ptr: number, len: number) => {
          if (self) self.lastLog = Buffer.from(new Uint8Array(self.exports.memory.buffer, ptr >>> 0, len >>> 0)).toString("latin1");
          return 0;
        },
      },
    });
    self = new CodecModule(instance.exports as unknown as CodecExports);
    self.exports._initialize();
    return self;
  }

  call(target: string, input: Uint8Array): CodecCall {
    const fn = this.exports[target] as ((len: number) => number) | undefined;
    if (typeof fn !== "function") throw new Error(`the ${codecModuleName} module has no export ${target}`);
    this.lastLog = "";
    try {
      const at = this.exports.input(input.length) >>> 0;
      new Uint8Array(this.exports.memory.buffer, at, input.length).set(input);
      const result = fn(input.length);
      const ptr = this.exports.outputPtr() >>> 0;
      const len = this.exports.outputLength();
      return { result, output: Buffer.from(new Uint8Array(this.exports.memory.buffer, ptr, len)) };
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
        throw new Finding("trap", `${target} trapped: ${(e as Error).message}${this.lastLog ? ` (abort: ${this.lastLog})` : ""}`);
      }
      throw e;
    }
  }
}

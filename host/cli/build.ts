import { buildAll } from "../build.js";
import type { Command } from "./command.js";

export const command: Command = {
  name: "build",
  summary: "compile every filter and example into build/<name>.wasm (release) and build/debug/",
  async run(args) {
    if (args.includes("--help")) {
      console.log("usage: proxy-wasm build [--force] [module ...]");
      return 0;
    }
    const outs = await buildAll({ force: args.includes("--force"), only: args.filter((a) => !a.startsWith("-")) });
    console.log(`built ${outs.length} module output(s) into build/`);
    return 0;
  },
};

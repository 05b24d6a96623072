// What bench/callgrind.ts runs under valgrind: `node --single-threaded dist/bench/callgrind-driver.js
// <name> <requests> [module.wasm [floor.wat]]` drives <requests> request lifecycles of the module and of its WAT
// floor through bench/lifecycle.ts (one timed run, a fixed warm-up) and prints nothing: callgrind
// counts the instructions of the whole process, and two request counts cancel startup out.
import { measureLifecycle } from "./lifecycle.js";

const [name, requests, modulePath, floorPath] = process.argv.slice(2);
if (!name || !requests || !(Number(requests) > 0)) {
  console.error("usage: node --single-threaded dist/bench/callgrind-driver.js <name> <requests> [module.wasm [floor.wat]]");
  process.exit(2);
}
await measureLifecycle(name, { iterations: Number(requests), runs: 1, warmup: 2000, modulePath, floorPath });

// Every fuzz target, by name: the SDK's decoders, each suite filter's configuration parser, and
// requests through the whole suite. Built once per thread (the config targets read the filters'
// schemas and READMEs).
import { codecTargets } from "./codecs.js";
import { configTargets } from "./configs.js";
import { requestTarget } from "./requests.js";
import { selftestTargets } from "./selftest.js";
import type { FuzzTarget } from "./types.js";

let targets: FuzzTarget[] | null = null;

export function allTargets(): FuzzTarget[] {
  targets ??= [...codecTargets, ...configTargets(), requestTarget];
  return targets;
}

export function targetByName(name: string): FuzzTarget {
  const t = [...allTargets(), ...selftestTargets].find((x) => x.name === name);
  if (!t) throw new Error(`no fuzz target named ${JSON.stringify(name)} (targets: ${allTargets().map((x) => x.name).join(", ")})`);
  return t;
}

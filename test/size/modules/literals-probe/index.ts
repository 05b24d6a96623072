// Test module for the static-data passes (host/optimize/static-data.ts, packed-strings.ts): string
// literals of every kind — Latin-1 (packed one byte per character and restored at _initialize),
// wider characters (left as they are), empty, shared, in a static array, at module top level —
// read back by `checksum`, and an abort whose message must reach proxy_log intact.
import "proxy-wasm-as/assembly/runtime/abort";

const TOP_LEVEL = "a literal read by top-level code: " + "joined at start";
const TABLE: string[] = ["alpha", "beta", "gamma", "", "delta epsilon zeta eta theta iota kappa lambda"];
const WIDE = "héllo wörld — ✓ 𝄞";
const LATIN1_ONLY = "Latin-1 only: café, naïve, façade, ÿ";

function mix(h: u32, s: string): u32 {
  for (let i = 0, n = s.length; i < n; i++) h = (h ^ <u32>s.charCodeAt(i)) * 16777619;
  return (h ^ <u32>s.length) * 16777619;
}

/** FNV-1a over every literal's length and code units. */
export function checksum(): u32 {
  let h: u32 = 2166136261;
  h = mix(h, TOP_LEVEL);
  for (let i = 0; i < TABLE.length; i++) h = mix(h, TABLE[i]);
  h = mix(h, WIDE);
  h = mix(h, LATIN1_ONLY);
  h = mix(h, "used once, in code: the quick brown fox jumps over the lazy dog");
  h = mix(h, "alpha"); // the same literal as TABLE[0]
  return h;
}

/** Aborts: the handler logs the message (and, in debug builds, the file and line). */
export function fail(): void {
  assert(false, "literals-probe: deliberate failure");
}

// proxy_get_property for the SDK's property getters (../api/properties.ts, ../api/attributes.ts):
// the path as segments, or as one constant string already joined with "\0", which costs no
// path array per call (attributes read on every request). The value stays in the out slots.
import { proxy_get_property } from "../abi/imports";
import { WasmResult } from "../abi/enums";
import { pathMaxSize, writePath } from "../codec/path";
import { maxUtf8, putUtf8 } from "../codec/utf8";
import { OUT_PTR, OUT_SIZE, clearOut, freeHostBlock, releaseOut, reserveScratch } from "./memory";
import { setLastResult } from "./state";

function fetchAt(base: usize, size: usize): bool {
  clearOut();
  return setLastResult(proxy_get_property(base, size, OUT_PTR, OUT_SIZE)) == WasmResult.Ok;
}

/** Calls proxy_get_property; true if the host returned a value (left in the out slots). */
export function fetchProperty(path: string[]): bool {
  const base = reserveScratch(pathMaxSize(path));
  return fetchAt(base, writePath(path, base));
}

/** fetchProperty for a path joined with "\0" ("xds\0route_name"). */
export function fetchJoinedProperty(joined: string): bool {
  const base = reserveScratch(maxUtf8(joined));
  return fetchAt(base, putUtf8(joined, base));
}

/** The value takeFixed8 read. */
export let fixed8: u64 = 0;

/** After a fetch that succeeded: reads an 8-byte value into `fixed8`; false (block freed, SerializationFailure) if not 8 bytes. */
export function takeFixed8(): bool {
  const ptr = load<usize>(OUT_PTR);
  if (load<u32>(OUT_SIZE) != 8) {
    releaseOut();
    setLastResult(WasmResult.SerializationFailure);
    return false;
  }
  fixed8 = load<u64>(ptr);
  freeHostBlock(ptr);
  return true;
}

// Envoy's choice of the client address from x-forwarded-for (Utility::getLastAddressFromXFF, used
// by the connection manager for xff_num_trusted_hops): ignore the last `numToSkip` comma-separated
// entries — each needs a comma before it, else there is no address — take the entry after the
// last remaining comma, strip whitespace and parse it as an IP. Works on the header's bytes.
// Pure code: no host imports.
import { IpAddress, parseIpRaw } from "proxy-wasm-as";

function isSpace(c: u8): bool {
  return c == 0x20 || c == 0x09;
}

/** False when there is no such valid address (Envoy then keeps the connection's peer address). */
export function addressFromXff(xff: ArrayBuffer, numToSkip: u32, out: IpAddress): bool {
  const p = changetype<usize>(xff);
  let end = xff.byteLength;
  for (let skipped: u32 = 0; skipped <= numToSkip; skipped++) {
    let comma = end - 1;
    while (comma >= 0 && load<u8>(p + <usize>comma) != 0x2c) comma--;
    if (skipped == numToSkip) {
      let start = comma + 1;
      while (start < end && isSpace(load<u8>(p + <usize>start))) start++;
      while (end > start && isSpace(load<u8>(p + <usize>(end - 1)))) end--;
      return end > start && parseIpRaw(p + <usize>start, end - start, out);
    }
    if (comma < 0) return false;
    end = comma;
  }
  return false;
}

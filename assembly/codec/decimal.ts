// Decimal number text → f64 for the JSON reader, rounded as JSON.parse rounds (to nearest, ties
// to even). AssemblyScript 0.27's parseFloat (std util/string strtod → scientific) is wrong by
// powers of ten in one case: when the first 19 significant digits exceed 2^53 and the decimal
// exponent left after them is 23..37, its fast path scales the float copy of the significand by
// 10^(e-22) and lowers the exponent to 22, then falls through to its slow path with the integer
// significand and the lowered exponent ("42246517072897404e23" gives 4.2e38 instead of 4.2e39).
// Those numbers are converted here, exactly; every other number goes to parseFloat. Pure code.

/** Largest integer an f64 holds exactly; above it parseFloat leaves its fast path. */
const MAX_SAFE: u64 = 9007199254740991;
/** strtod keeps the first 19 significant digits; the rest only tells whether any is non-zero. */
const SIGNIFICANT_DIGITS = 19;

/** The value of the JSON number text[start, end) (already validated against the JSON grammar). */
export function parseJsonNumber(text: string, start: i32, end: i32): f64 {
  // The significand and decimal exponent as strtod computes them.
  let i = start;
  const negative = text.charCodeAt(i) == 0x2d;
  if (negative) i++;
  let significand: u64 = 0;
  let digits = 0;
  let truncated = false;
  let exponent: i32 = 0;
  let fraction = false;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x2e) {
      fraction = true;
      continue;
    }
    const d = c - 0x30;
    if (<u32>d > 9) break;
    if (digits == 0 && d == 0) {
      if (fraction) exponent--;
    } else if (digits < SIGNIFICANT_DIGITS) {
      significand = significand * 10 + <u64>d;
      digits++;
      if (fraction) exponent--;
    } else {
      if (d != 0) truncated = true;
      if (!fraction) exponent++;
    }
  }
  if (i < end) exponent += exponentPart(text, i + 1, end);
  if (significand != 0 && exponent > 22 && exponent <= 37) {
    // A truncated tail counts as a low bit, as strtod does: it lies far below the rounding point.
    const magnitude = scaleByPowerOfTen(significand | <u64>truncated, exponent);
    return negative ? -magnitude : magnitude;
  }
  return parseFloat(text.substring(start, end));
}

/** The exponent after 'e'/'E' at text[i, end), clamped (the caller only needs 23..37 exactly). */
function exponentPart(text: string, i: i32, end: i32): i32 {
  let negative = false;
  const c = text.charCodeAt(i);
  if (c == 0x2d || c == 0x2b) {
    negative = c == 0x2d;
    i++;
  }
  let e: i32 = 0;
  for (; i < end && e < 100000; i++) e = e * 10 + (text.charCodeAt(i) - 0x30);
  return negative ? -e : e;
}

/**
 * significand × 10^exponent rounded to an f64, for exponent 23..37: the exact product
 * significand × 5^exponent (at most 64 + 86 bits) in 32-bit limbs, rounded to 53 bits, then
 * scaled by 2^exponent, which is exact.
 */
function scaleByPowerOfTen(significand: u64, exponent: i32): f64 {
  const limbs = new StaticArray<u32>(5);
  limbs[0] = <u32>significand;
  limbs[1] = <u32>(significand >> 32);
  for (let k = 0; k < exponent; k++) {
    let carry: u64 = 0;
    for (let j = 0; j < 5; j++) {
      const v = <u64>unchecked(limbs[j]) * 5 + carry;
      unchecked((limbs[j] = <u32>v));
      carry = v >> 32;
    }
  }
  let top = 4;
  while (unchecked(limbs[top]) == 0) top--;
  const highest = top * 32 + (31 - <i32>clz(unchecked(limbs[top])));
  // Keep 53 bits; then the rounding bit, and whether anything below it is set.
  const shift = highest - 52;
  let mantissa: u64 = 0;
  for (let bit = highest; bit >= shift; bit--) mantissa = (mantissa << 1) | <u64>bitAt(limbs, bit);
  const round = bitAt(limbs, shift - 1);
  let below = false;
  for (let bit = shift - 2; bit >= 0 && !below; bit--) below = bitAt(limbs, bit) != 0;
  let scale = shift + exponent;
  if (round != 0 && (below || (mantissa & 1) != 0)) {
    mantissa++;
    if (mantissa == (<u64>1 << 53)) {
      mantissa >>= 1;
      scale++;
    }
  }
  // 2^scale exactly (scale stays far below the f64 exponent limit for these inputs).
  return <f64>mantissa * reinterpret<f64>(<u64>(1023 + scale) << 52);
}

// @ts-ignore: decorator
@inline function bitAt(limbs: StaticArray<u32>, bit: i32): u32 {
  return (unchecked(limbs[bit >> 5]) >> <u32>(bit & 31)) & 1;
}

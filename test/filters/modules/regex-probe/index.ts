// Test module: exposes the SDK's regex and CIDR matchers to node tests, which compare them with
// JavaScript's RegExp and with node:net's BlockList on generated inputs. Inputs are passed as
// UTF-8 bytes written into memory from `scratch(size)`.
import "proxy-wasm-as/assembly/runtime/abort";
import { Regex, compileRegex } from "proxy-wasm-as/assembly/match/regex";
import { CidrSet, parseCidr } from "proxy-wasm-as/assembly/match/cidr";

let buffer = new ArrayBuffer(0);
let regex: Regex | null = null;
let lastError = "";
let ranges = new CidrSet();

/** A buffer of at least `size` bytes for the next call's input; returns its address. */
export function scratch(size: i32): usize {
  if (buffer.byteLength < size) buffer = new ArrayBuffer(size);
  return changetype<usize>(buffer);
}

/** Compiles the pattern in scratch: 1 ok, 0 rejected (error via errorLength/errorText). */
export function compile(len: i32): i32 {
  const result = compileRegex(String.UTF8.decodeUnsafe(changetype<usize>(buffer), len));
  regex = result.regex;
  lastError = result.describe();
  return result.ok ? 1 : 0;
}

/** Writes the last compile error as UTF-8 into scratch; returns its length. */
export function errorText(): i32 {
  const bytes = String.UTF8.encode(lastError);
  const at = scratch(bytes.byteLength);
  memory.copy(at, changetype<usize>(bytes), bytes.byteLength);
  return bytes.byteLength;
}

export function programSize(): i32 {
  return regex === null ? 0 : regex!.programSize;
}

export function fullMatch(len: i32): i32 {
  return regex!.fullMatchRaw(changetype<usize>(buffer), len) ? 1 : 0;
}

export function partialMatch(len: i32): i32 {
  return regex!.partialMatchRaw(changetype<usize>(buffer), len) ? 1 : 0;
}

export function resetRanges(): void {
  ranges = new CidrSet();
}

/** Adds the CIDR in scratch: 1 ok, 0 rejected. */
export function addRange(len: i32): i32 {
  const result = parseCidr(String.UTF8.decodeUnsafe(changetype<usize>(buffer), len));
  if (result.ok) ranges.add(result.range!);
  lastError = result.error;
  return result.ok ? 1 : 0;
}

/** 1 if the socket address text in scratch is in one of the ranges. */
export function inRanges(len: i32): i32 {
  return ranges.containsSocketAddressRaw(changetype<usize>(buffer), len) ? 1 : 0;
}

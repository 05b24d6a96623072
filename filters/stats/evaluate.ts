// Evaluates parsed expressions (expression.ts) against the current request: one typed property
// read, or a field of a peer. As in Istio, a value that cannot be evaluated is the dimension value
// `unknown` (filters.md §2.2), and an amount that cannot be read is not recorded.
import { JsonValue, WasmResult, getPropertyBoolOr, getPropertyInt64Or, getPropertyString, getPropertyUint64Or, lastWasmResult } from "proxy-wasm-as";
import { Expression, ExpressionKind, ValueType, jsonToAmount, parseAmount, renderJson, walkJson } from "./expression";
import { UNKNOWN } from "./labels";
import { Peers } from "./peers";

function peerValue(e: Expression, peers: Peers): JsonValue | null {
  const peer = peers.byName(unchecked(e.path[0]));
  return peer === null ? null : walkJson(peer.metadata, e.keys);
}

function attributeText(e: Expression): string | null {
  if (e.type == ValueType.Int) {
    const v = getPropertyInt64Or(e.path, 0);
    return lastWasmResult() == WasmResult.Ok ? v.toString() : null;
  }
  if (e.type == ValueType.Uint) {
    const v = getPropertyUint64Or(e.path, 0);
    return lastWasmResult() == WasmResult.Ok ? v.toString() : null;
  }
  if (e.type == ValueType.Bool) {
    const v = getPropertyBoolOr(e.path, false);
    return lastWasmResult() == WasmResult.Ok ? (v ? "true" : "false") : null;
  }
  return getPropertyString(e.path);
}

/** The expression's value as a label value; `unknown` when it cannot be evaluated. */
export function evaluateDimension(e: Expression, peers: Peers): string {
  const text = e.kind == ExpressionKind.Constant ? e.constant
    : e.kind == ExpressionKind.Peer ? renderJson(peerValue(e, peers)) : attributeText(e);
  return text === null ? UNKNOWN : text!;
}

/** The expression's value as a non-negative metric amount, or -1 when it has none. */
export function evaluateAmount(e: Expression, peers: Peers): i64 {
  if (e.kind == ExpressionKind.Constant) return e.amount;
  if (e.kind == ExpressionKind.Peer) return jsonToAmount(peerValue(e, peers));
  if (e.type == ValueType.Int) {
    const v = getPropertyInt64Or(e.path, -1);
    return v < 0 ? -1 : v;
  }
  if (e.type == ValueType.Uint) {
    // Absent reads as u64.MAX_VALUE, which is out of range like any amount over i64.MAX_VALUE.
    const v = getPropertyUint64Or(e.path, u64.MAX_VALUE);
    return v > <u64>i64.MAX_VALUE ? -1 : <i64>v;
  }
  const s = getPropertyString(e.path);
  return s === null ? -1 : parseAmount(s);
}

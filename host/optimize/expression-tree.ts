// Generic access to the children of a Binaryen expression, in evaluation order, each with a
// setter, so a pass can walk a function body and replace any node in place. Covers the
// expressions AssemblyScript emits for wasm32 with its default features (MVP, mutable globals,
// sign extension, non-trapping float-to-int, bulk memory). Anything else is reported as
// unknown, and a pass must then leave the function alone.
import binaryen from "binaryen";

export type ExpressionRef = number;

/**
 * binaryen.js with its per-expression helpers (binaryen.Block.getChildAt, binaryen.Store.setValue,
 * ..., binaryen.Function.setBody), which exist at run time but are missing from its typings.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Helpers = Record<string, (...args: any[]) => any>;
export const api = binaryen as typeof binaryen & Record<
  "Block" | "If" | "Loop" | "Break" | "Switch" | "Call" | "CallIndirect" | "LocalGet" | "LocalSet" | "GlobalGet" |
  "GlobalSet" | "Load" | "Store" | "Unary" | "Binary" | "Select" | "Drop" | "Return" | "MemoryGrow" | "MemoryCopy" |
  "MemoryFill" | "Const" | "Function",
  Helpers
>;

export interface Child {
  expr: ExpressionRef;
  set(replacement: ExpressionRef): void;
}

/** The children of `expr` in the order Wasm evaluates them; null if the kind is not covered. */
export function childrenOf(expr: ExpressionRef): Child[] | null {
  const b = api;
  const out: Child[] = [];
  const add = (child: ExpressionRef, set: (e: ExpressionRef) => void): void => {
    if (child) out.push({ expr: child, set });
  };
  switch (b.getExpressionId(expr)) {
    case b.BlockId:
      for (let i = 0, n = b.Block.getNumChildren(expr); i < n; i++) {
        add(b.Block.getChildAt(expr, i), (e) => b.Block.setChildAt(expr, i, e));
      }
      break;
    case b.IfId:
      add(b.If.getCondition(expr), (e) => b.If.setCondition(expr, e));
      add(b.If.getIfTrue(expr), (e) => b.If.setIfTrue(expr, e));
      add(b.If.getIfFalse(expr), (e) => b.If.setIfFalse(expr, e));
      break;
    case b.LoopId:
      add(b.Loop.getBody(expr), (e) => b.Loop.setBody(expr, e));
      break;
    case b.BreakId:
      add(b.Break.getValue(expr), (e) => b.Break.setValue(expr, e));
      add(b.Break.getCondition(expr), (e) => b.Break.setCondition(expr, e));
      break;
    case b.SwitchId:
      add(b.Switch.getValue(expr), (e) => b.Switch.setValue(expr, e));
      add(b.Switch.getCondition(expr), (e) => b.Switch.setCondition(expr, e));
      break;
    case b.CallId:
      for (let i = 0, n = b.Call.getNumOperands(expr); i < n; i++) {
        add(b.Call.getOperandAt(expr, i), (e) => b.Call.setOperandAt(expr, i, e));
      }
      break;
    case b.CallIndirectId:
      for (let i = 0, n = b.CallIndirect.getNumOperands(expr); i < n; i++) {
        add(b.CallIndirect.getOperandAt(expr, i), (e) => b.CallIndirect.setOperandAt(expr, i, e));
      }
      add(b.CallIndirect.getTarget(expr), (e) => b.CallIndirect.setTarget(expr, e));
      break;
    case b.LocalSetId:
      add(b.LocalSet.getValue(expr), (e) => b.LocalSet.setValue(expr, e));
      break;
    case b.GlobalSetId:
      add(b.GlobalSet.getValue(expr), (e) => b.GlobalSet.setValue(expr, e));
      break;
    case b.LoadId:
      add(b.Load.getPtr(expr), (e) => b.Load.setPtr(expr, e));
      break;
    case b.StoreId:
      add(b.Store.getPtr(expr), (e) => b.Store.setPtr(expr, e));
      add(b.Store.getValue(expr), (e) => b.Store.setValue(expr, e));
      break;
    case b.UnaryId:
      add(b.Unary.getValue(expr), (e) => b.Unary.setValue(expr, e));
      break;
    case b.BinaryId:
      add(b.Binary.getLeft(expr), (e) => b.Binary.setLeft(expr, e));
      add(b.Binary.getRight(expr), (e) => b.Binary.setRight(expr, e));
      break;
    case b.SelectId:
      add(b.Select.getIfTrue(expr), (e) => b.Select.setIfTrue(expr, e));
      add(b.Select.getIfFalse(expr), (e) => b.Select.setIfFalse(expr, e));
      add(b.Select.getCondition(expr), (e) => b.Select.setCondition(expr, e));
      break;
    case b.DropId:
      add(b.Drop.getValue(expr), (e) => b.Drop.setValue(expr, e));
      break;
    case b.ReturnId:
      add(b.Return.getValue(expr), (e) => b.Return.setValue(expr, e));
      break;
    case b.MemoryGrowId:
      add(b.MemoryGrow.getDelta(expr), (e) => b.MemoryGrow.setDelta(expr, e));
      break;
    case b.MemoryCopyId:
      add(b.MemoryCopy.getDest(expr), (e) => b.MemoryCopy.setDest(expr, e));
      add(b.MemoryCopy.getSource(expr), (e) => b.MemoryCopy.setSource(expr, e));
      add(b.MemoryCopy.getSize(expr), (e) => b.MemoryCopy.setSize(expr, e));
      break;
    case b.MemoryFillId:
      add(b.MemoryFill.getDest(expr), (e) => b.MemoryFill.setDest(expr, e));
      add(b.MemoryFill.getValue(expr), (e) => b.MemoryFill.setValue(expr, e));
      add(b.MemoryFill.getSize(expr), (e) => b.MemoryFill.setSize(expr, e));
      break;
    case b.LocalGetId:
    case b.GlobalGetId:
    case b.ConstId:
    case b.MemorySizeId:
    case b.NopId:
    case b.UnreachableId:
      break;
    default:
      return null;
  }
  return out;
}

/** Thrown by walk when an expression's kind is not covered by childrenOf. */
export class UnknownExpression extends Error {}

/** Visits `root` and every expression below it (throws UnknownExpression on a kind not covered). */
export function walk(root: ExpressionRef, visit: (expr: ExpressionRef) => void): void {
  const stack = [root];
  while (stack.length > 0) {
    const expr = stack.pop()!;
    visit(expr);
    const children = childrenOf(expr);
    if (children === null) throw new UnknownExpression();
    for (const c of children) stack.push(c.expr);
  }
}

/** walk over the body of every function of `module` that has one (imports have none), or of those `only` accepts. */
export function forEachExpression(
  module: binaryen.Module, visit: (expr: ExpressionRef) => void, only?: (functionName: string) => boolean,
): void {
  for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
    const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (info.body && (!only || only(info.name))) walk(info.body, visit);
  }
}

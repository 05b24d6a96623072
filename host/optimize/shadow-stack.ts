// Removes the shadow-stack traffic that no garbage-collection step can observe.
//
// With the incremental runtime, AssemblyScript's ShadowStackPass spills every managed value to a
// stack in linear memory: each managed local on every assignment, and each managed call operand
// before every call, inside a frame pushed, zeroed and overflow-checked on entry and popped on
// every exit (a third of a filter's code, and a large part of its per-call cost). The collector
// reads that stack only inside a collection step, and a step only runs inside the runtime's
// `step` (reached from `__new`, `__renew` and `__collect`). So a spill is observable only if a
// call that can reach a step may run while the spilled value is still needed:
//
// - a call operand's spill protects it from the store until the call returns: it is needed if a
//   later operand of that call, or the callee itself, can collect;
// - a local's spill stays in its slot while the frame lives: it is needed if a call that can
//   collect may run after it (later in evaluation order, or in an enclosing loop) while the local
//   is still to be read afterwards (a read later than that call, or in a loop around it). During
//   the call itself, a local passed to it is protected by the operand's spill. Values leave a
//   local only through reads, and ShadowStackPass gives every managed local its own slot; the
//   unslotted temporaries AssemblyScript uses hold a value from one read to the next without a
//   call in between;
// - a spill of a value read from a parameter the function never assigns is never needed: the
//   caller's spill of that argument protects it for the whole call (not for exports: the host
//   spills nothing);
// - a frame left without spills is not pushed at all.
//
// A function "can collect" if it is the runtime's step, calls one that can, makes an indirect
// call (any table entry could), or is an import that may call back into the module before it
// returns (callouts and foreign functions; the rest of proxy-wasm re-enters only through
// `malloc`, which takes raw memory from TLSF and never steps the collector — see
// assembly/runtime/memory.ts). A spill that is removed leaves its slot holding zero or an older
// value that was itself protected ever since it was stored, so the collector never sees a dangling
// pointer. Functions with expressions this pass does not know are left untouched.
//
// Runs as an AssemblyScript transform at afterCompile: after ShadowStackPass, before Binaryen's
// optimizer, while the instrumentation still has the exact shapes ShadowStackPass emits.
import binaryen from "binaryen";
import { type ExpressionRef, api, childrenOf } from "./expression-tree.js";

const STACK_POINTER = "~lib/memory/__stack_pointer";
const STACK_CHECK = "~stack_check";
/** Where the incremental runtime (itcms) runs a collection step. */
const COLLECTOR_STEPS = ["~lib/rt/itcms/step", "~lib/rt/itcms/__collect"];

/**
 * Host functions that return without calling into the module other than through `malloc`.
 * proxy-wasm-abi.md §2.6: Envoy defers continue/close/local replies until the callback returns.
 * Everything not listed (proxy_http_call, proxy_grpc_*, proxy_call_foreign_function, any
 * user-declared import) is assumed to be able to call back, and so to collect.
 */
const NON_REENTRANT_IMPORTS = new Set([
  "proxy_log", "proxy_get_log_level", "proxy_get_current_time_nanoseconds", "proxy_set_tick_period_milliseconds",
  "proxy_get_property", "proxy_set_property",
  "proxy_get_buffer_bytes", "proxy_set_buffer_bytes", "proxy_get_buffer_status",
  "proxy_get_header_map_pairs", "proxy_set_header_map_pairs", "proxy_get_header_map_value",
  "proxy_add_header_map_value", "proxy_replace_header_map_value", "proxy_remove_header_map_value",
  "proxy_get_header_map_size",
  "proxy_continue_stream", "proxy_close_stream", "proxy_send_local_response", "proxy_get_status",
  "proxy_get_shared_data", "proxy_set_shared_data", "proxy_register_shared_queue", "proxy_resolve_shared_queue",
  "proxy_enqueue_shared_queue", "proxy_dequeue_shared_queue",
  "proxy_define_metric", "proxy_increment_metric", "proxy_record_metric", "proxy_get_metric",
  "proxy_set_effective_context", "proxy_done",
  "clock_time_get", "random_get", "fd_write", "environ_get", "environ_sizes_get", "args_get", "args_sizes_get",
  "proc_exit",
]);

export interface ElisionStats {
  spillsBefore: number;
  spillsRemoved: number;
  /** Functions whose frame is no longer pushed. */
  framesRemoved: string[];
  /** Functions left as they were because they hold expressions this pass does not know. */
  functionsSkipped: string[];
}

/** What one walk of a function body found. */
interface FunctionFacts {
  calls: CallSite[];
  /** Whether there is an indirect call. */
  indirect: boolean;
  /** False if the body has an expression kind this pass does not know. */
  understood: boolean;
  /** A constructor that allocates its object only when called with `this` null (see collecting()). */
  constructor: boolean;
  /** What local 0 (`this`) is assigned outside the allocating branch: constructor calls only, or not. */
  thisFromConstructorsOnly: boolean;
}

interface CallSite {
  target: string;
  /** Passes this function's own non-null `this` on as the first argument (after the allocating check). */
  passesThis: boolean;
  /** Inside the branch that runs only when `this` is null. */
  inAllocatingBranch: boolean;
}

/** Which functions can collect: always, or (constructors) even when given an object to initialize. */
interface Collecting {
  functions: Set<string>;
  /** Constructors that can collect even when called with a non-null `this`. */
  constructorsWithThis: Set<string>;
  facts: Map<string, FunctionFacts>;
}

/** A position in evaluation order (post-order), with the outermost loop around it. */
interface Point {
  position: number;
  /** The outermost enclosing loop as a [first, last] position range, or null. */
  loop: [number, number] | null;
}

/** A call that can collect. */
interface CollectingCall extends Point {
  /** The local its result is assigned to at once (`$x = f(...)`), or -1. */
  resultTo: number;
}

interface Spill extends Point {
  store: ExpressionRef;
  replace(e: ExpressionRef): void;
  /** For a call operand's spill: the position of that call; for a local's: -1. */
  callPosition: number;
  /** The local whose value is spilled (`store sp (local.tee $x V)`), or -1 if not known. */
  local: number;
  /** The local the spilled value was read from (V is `local.get $p`), or -1. */
  readFrom: number;
}

interface Walk {
  spills: Spill[];
  /** Calls that can collect. */
  collecting: CollectingCall[];
  /** Reads (local.get) of each local. */
  reads: Map<number, Point[]>;
  /** How many times each local is assigned in the body. */
  assignments: Map<number, number>;
  /** Stack-pointer updates, overflow checks and frame zeroing: the frame's push and pops. */
  frameOps: { expr: ExpressionRef; replace(e: ExpressionRef): void }[];
  understood: boolean;
}

export function elideShadowStack(module: binaryen.Module): ElisionStats {
  const stats: ElisionStats = { spillsBefore: 0, spillsRemoved: 0, framesRemoved: [], functionsSkipped: [] };
  const functions: binaryen.FunctionRef[] = [];
  for (let i = 0, n = module.getNumFunctions(); i < n; i++) functions.push(module.getFunctionByIndex(i));
  const names = functions.map((f) => binaryen.getFunctionInfo(f).name);
  // Without the incremental runtime's step there is nothing to reason about: leave the module as is.
  if (!COLLECTOR_STEPS.some((s) => names.includes(s))) return stats;

  const collecting = collectingFunctions(functions);
  // The host calls exports without spilling anything: their parameters are not protected.
  const exported = new Set<string>();
  for (let i = 0, n = module.getNumExports(); i < n; i++) {
    const e = binaryen.getExportInfo(module.getExportByIndex(i));
    if (e.kind === binaryen.ExternalFunction) exported.add(e.value);
  }
  for (const func of functions) {
    const info = binaryen.getFunctionInfo(func);
    if (info.module || !info.body) continue;
    const protectedParams = exported.has(info.name) ? 0 : binaryen.expandType(info.params).length;
    const walk = walkFunction(info.name, info.body, (body) => api.Function.setBody(func, body), collecting);
    if (walk.spills.length === 0 && walk.frameOps.length === 0) continue;
    stats.spillsBefore += walk.spills.length;
    if (!walk.understood) {
      stats.functionsSkipped.push(info.name);
      continue;
    }
    // Locals' spills first: whether an operand's spill is needed depends on which of them stay.
    const keep = new Set<Spill>();
    for (const spill of walk.spills) {
      if (spill.callPosition < 0 && spillNeeded(spill, walk, protectedParams)) keep.add(spill);
    }
    const covered = alwaysProtected(walk, keep, protectedParams, binaryen.expandType(info.params).length);
    for (const spill of walk.spills) {
      if (spill.callPosition < 0 || (spill.readFrom >= 0 && covered.has(spill.readFrom))) continue;
      if (spillNeeded(spill, walk, protectedParams)) keep.add(spill);
    }
    for (const spill of walk.spills) {
      if (keep.has(spill)) continue;
      spill.replace(withoutStore(module, spill.store));
      stats.spillsRemoved++;
    }
    const kept = keep.size;
    if (kept === 0 && walk.frameOps.length > 0) {
      for (const op of walk.frameOps) op.replace(module.nop());
      stats.framesRemoved.push(info.name);
    }
  }
  return stats;
}

/**
 * The functions that can run a collection step (see the header comment). AssemblyScript's
 * constructors start with `if (this == null) this = __new(...)`: called from a subclass's
 * constructor with the object already allocated, that branch never runs, so a constructor whose
 * only way to collect is that branch does not collect when given `this`.
 */
function collectingFunctions(functions: binaryen.FunctionRef[]): Collecting {
  const facts = new Map<string, FunctionFacts>();
  const result = new Set<string>();
  for (const func of functions) {
    const info = binaryen.getFunctionInfo(func);
    if (info.module) {
      if (!NON_REENTRANT_IMPORTS.has(info.base ?? "")) result.add(info.name);
      continue;
    }
    facts.set(info.name, callsOf(info.name, info.body));
  }
  for (const step of COLLECTOR_STEPS) if (facts.has(step)) result.add(step);
  for (const [name, f] of facts) if (f.indirect || !f.understood) result.add(name);
  // Callers of collecting functions collect: iterate to a fixed point.
  fixedPoint(facts, result, (f) => f.calls.some((c) => result.has(c.target)));
  const constructorsWithThis = new Set<string>();
  const isConstructor = (name: string) => facts.get(name)?.constructor === true;
  fixedPoint(facts, constructorsWithThis, (f) => f.constructor && (f.indirect || !f.understood || f.calls.some((c) =>
    !c.inAllocatingBranch && (c.passesThis && isConstructor(c.target) ? constructorsWithThis.has(c.target) : result.has(c.target)))));
  return { functions: result, constructorsWithThis, facts };
}

/** Adds to `set` every function for which `holds` is true, until nothing changes. */
function fixedPoint(facts: Map<string, FunctionFacts>, set: Set<string>, holds: (f: FunctionFacts) => boolean): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const [name, f] of facts) {
      if (!set.has(name) && holds(f)) {
        set.add(name);
        changed = true;
      }
    }
  }
}

/** `if (this == null) ...`: the branch AssemblyScript's constructors allocate their object in. */
function isAllocatingCheck(expr: ExpressionRef): boolean {
  if (binaryen.getExpressionId(expr) !== binaryen.IfId) return false;
  const condition = api.If.getCondition(expr);
  return binaryen.getExpressionId(condition) === binaryen.UnaryId && api.Unary.getOp(condition) === binaryen.EqZInt32 &&
    isLocalGet(api.Unary.getValue(condition), 0);
}

/** Whether a call's first operand reads local 0, directly or through ShadowStackPass's operand spill. */
function firstOperandIsThis(call: ExpressionRef): boolean {
  if (api.Call.getNumOperands(call) === 0) return false;
  const operand = api.Call.getOperandAt(call, 0);
  if (isLocalGet(operand, 0)) return true;
  if (binaryen.getExpressionId(operand) !== binaryen.BlockId || api.Block.getNumChildren(operand) !== 3) return false;
  const set = api.Block.getChildAt(operand, 0);
  return binaryen.getExpressionId(set) === binaryen.LocalSetId && isLocalGet(api.LocalSet.getValue(set), 0);
}

function callsOf(name: string, body: ExpressionRef): FunctionFacts {
  const facts: FunctionFacts = { calls: [], indirect: false, understood: true, constructor: false, thisFromConstructorsOnly: true };
  const isConstructorName = /#constructor$/.test(name);
  let checked = false;
  const visit = (expr: ExpressionRef, inBranch: boolean): void => {
    const id = binaryen.getExpressionId(expr);
    const children = childrenOf(expr);
    if (children === null) {
      facts.understood = false;
      return;
    }
    const check = isConstructorName && isAllocatingCheck(expr);
    children.forEach((c, i) => visit(c.expr, inBranch || (check && i === 1)));
    if (check && !inBranch) facts.constructor = checked = true;
    if (id === binaryen.CallId) {
      facts.calls.push({
        target: api.Call.getTarget(expr), passesThis: checked && !inBranch && firstOperandIsThis(expr), inAllocatingBranch: inBranch,
      });
    } else if (id === binaryen.CallIndirectId) {
      facts.indirect = true;
    } else if (id === binaryen.LocalSetId && api.LocalSet.getIndex(expr) === 0 && !inBranch) {
      // this = Super#constructor(this) returns the same object; anything else might not.
      const value = api.LocalSet.getValue(expr);
      const fromConstructor = binaryen.getExpressionId(value) === binaryen.CallId && /#constructor$/.test(api.Call.getTarget(value));
      if (!fromConstructor || !checked) facts.thisFromConstructorsOnly = false;
    }
  };
  if (body) visit(body, false);
  // `this` stays the object being initialized only if nothing else is assigned to it.
  facts.constructor = facts.constructor && facts.thisFromConstructorsOnly;
  return facts;
}

/** Numbers every expression in evaluation order (post-order) and records spills and calls. */
function walkFunction(
  name: string, body: ExpressionRef, setBody: (e: ExpressionRef) => void, collecting: Collecting,
): Walk {
  // In a constructor, after its allocating check, calls passing `this` on to another constructor
  // collect only if that constructor does so with a non-null `this`.
  const initializing = collecting.facts.get(name)?.constructor === true;
  let checked = false;
  let inBranch = false;
  const walk: Walk = { spills: [], collecting: [], reads: new Map(), assignments: new Map(), frameOps: [], understood: true };
  let position = 0;
  let outermostLoop: [number, number] | null = null;
  const spillByStore = new Map<ExpressionRef, Spill>();
  const callByExpr = new Map<ExpressionRef, CollectingCall>();

  const noteCollecting = (expr: ExpressionRef, point: Point): void => {
    const call: CollectingCall = { ...point, resultTo: -1 };
    walk.collecting.push(call);
    callByExpr.set(expr, call);
  };

  const visit = (expr: ExpressionRef, replace: (e: ExpressionRef) => void): void => {
    const id = binaryen.getExpressionId(expr);
    const isLoop = id === binaryen.LoopId;
    let loop: [number, number] | null = null;
    if (isLoop) {
      loop = [position, -1];
      if (outermostLoop === null) outermostLoop = loop;
    }
    const children = childrenOf(expr);
    const check = initializing && !inBranch && isAllocatingCheck(expr);
    if (children === null) walk.understood = false;
    else {
      children.forEach((c, i) => {
        const outer = inBranch;
        if (check && i === 1) inBranch = true;
        visit(c.expr, c.set);
        inBranch = outer;
      });
    }
    if (check) checked = true;
    const here = position++;
    if (loop !== null) {
      loop[1] = here;
      if (outermostLoop === loop) outermostLoop = null;
    }
    const point: Point = { position: here, loop: outermostLoop };
    switch (id) {
      case binaryen.CallId: {
        const target = api.Call.getTarget(expr);
        if (target === STACK_CHECK) walk.frameOps.push({ expr, replace });
        else if (collecting.functions.has(target)) {
          const initializes = initializing && checked && !inBranch && firstOperandIsThis(expr) &&
            collecting.facts.get(target)?.constructor === true;
          if (!initializes || collecting.constructorsWithThis.has(target)) noteCollecting(expr, point);
        }
        markOperandSpills(children ?? [], here, spillByStore);
        break;
      }
      case binaryen.CallIndirectId:
        noteCollecting(expr, point);
        markOperandSpills(children ?? [], here, spillByStore);
        break;
      case binaryen.LocalGetId: {
        const index = api.LocalGet.getIndex(expr);
        let reads = walk.reads.get(index);
        if (reads === undefined) walk.reads.set(index, (reads = []));
        reads.push(point);
        break;
      }
      case binaryen.LocalSetId: {
        const index = api.LocalSet.getIndex(expr);
        walk.assignments.set(index, (walk.assignments.get(index) ?? 0) + 1);
        const call = callByExpr.get(api.LocalSet.getValue(expr));
        if (call !== undefined) call.resultTo = index;
        break;
      }
      case binaryen.GlobalSetId:
        if (api.GlobalSet.getName(expr) === STACK_POINTER) walk.frameOps.push({ expr, replace });
        break;
      case binaryen.MemoryFillId:
        if (isStackPointer(api.MemoryFill.getDest(expr))) walk.frameOps.push({ expr, replace });
        break;
      case binaryen.StoreId:
        if (!isStackPointer(api.Store.getPtr(expr))) break;
        if (isConstZero(api.Store.getValue(expr))) {
          walk.frameOps.push({ expr, replace });
        } else {
          const value = api.Store.getValue(expr);
          const teed = binaryen.getExpressionId(value) === binaryen.LocalSetId && api.LocalSet.isTee(value);
          const spill: Spill = {
            ...point, store: expr, replace, callPosition: -1, local: teed ? api.LocalSet.getIndex(value) : -1,
            readFrom: teed ? localRead(api.LocalSet.getValue(value)) : -1,
          };
          walk.spills.push(spill);
          spillByStore.set(expr, spill);
        }
        break;
    }
  };
  visit(body, setBody);
  return walk;
}

/**
 * ShadowStackPass wraps a spilled call operand as `(block (local.set $t V) (store sp $t) (local.get $t))`:
 * such a spill only has to last until its call returns.
 */
function markOperandSpills(operands: { expr: ExpressionRef }[], callPosition: number, spills: Map<ExpressionRef, Spill>): void {
  const b = api;
  for (const { expr } of operands) {
    if (b.getExpressionId(expr) !== b.BlockId || b.Block.getNumChildren(expr) !== 3) continue;
    const [set, store, get] = [0, 1, 2].map((i) => b.Block.getChildAt(expr, i));
    if (b.getExpressionId(set) !== b.LocalSetId || b.LocalSet.isTee(set)) continue;
    const temp = b.LocalSet.getIndex(set);
    const spill = spills.get(store);
    if (spill === undefined || !isLocalGet(b.Store.getValue(store), temp) || !isLocalGet(get, temp)) continue;
    spill.callPosition = callPosition;
    spill.readFrom = localRead(b.LocalSet.getValue(set));
  }
}

/** The local `expr` reads (`local.get $x`), or -1. */
function localRead(expr: ExpressionRef): number {
  return binaryen.getExpressionId(expr) === binaryen.LocalGetId ? api.LocalGet.getIndex(expr) : -1;
}

function isLocalGet(expr: ExpressionRef, index: number): boolean {
  return binaryen.getExpressionId(expr) === binaryen.LocalGetId && api.LocalGet.getIndex(expr) === index;
}

/**
 * `protectedParams`: how many leading locals are parameters whose values the callers protect. A
 * parameter the function never assigns holds, for the whole call, a value the caller's own operand
 * spill protects (AssemblyScript spills every managed argument, and this pass keeps that spill
 * whenever the callee can collect).
 */
function spillNeeded(spill: Spill, walk: Walk, protectedParams: number): boolean {
  if (spill.readFrom >= 0 && spill.readFrom < protectedParams && !walk.assignments.has(spill.readFrom)) return false;
  if (spill.callPosition >= 0) {
    return walk.collecting.some((c) => c.position > spill.position && c.position <= spill.callPosition);
  }
  const reads = spill.local >= 0 ? walk.reads.get(spill.local) ?? [] : null;
  // `$x = f(...)` overwrites $x as soon as f returns: $x's earlier value is not needed after f
  // (while f runs, its operands' spills protect what it was given).
  return walk.collecting.some((c) =>
    mayFollow(c, spill) && (reads === null || (c.resultTo !== spill.local && reads.some((r) => mayFollow(r, c)))));
}

/**
 * Locals whose value is protected wherever it is read: parameters the callers protect and the
 * function never assigns, and locals every assignment of which is a spill that stays (the slot
 * then always holds the current value). Passing one to a call needs no operand spill.
 */
function alwaysProtected(walk: Walk, kept: Set<Spill>, protectedParams: number, params: number): Set<number> {
  const keptAssignments = new Map<number, number>();
  for (const spill of kept) {
    if (spill.local >= 0) keptAssignments.set(spill.local, (keptAssignments.get(spill.local) ?? 0) + 1);
  }
  const out = new Set<number>();
  for (let p = 0; p < protectedParams; p++) if (!walk.assignments.has(p)) out.add(p);
  for (const [local, count] of keptAssignments) {
    if ((local >= params || local < protectedParams) && walk.assignments.get(local) === count) out.add(local);
  }
  return out;
}

/** Whether `later` may run after `earlier` completes: later in evaluation order, or in a loop around both. */
function mayFollow(later: Point, earlier: Point): boolean {
  if (later.position > earlier.position) return true;
  const loop = earlier.loop;
  return loop !== null && later.position >= loop[0] && later.position <= loop[1];
}

/** The spill's side effects without the store: `local.tee $x V` becomes `local.set $x V`. */
function withoutStore(module: binaryen.Module, store: ExpressionRef): ExpressionRef {
  const value = api.Store.getValue(store);
  if (binaryen.getExpressionId(value) === binaryen.LocalSetId && api.LocalSet.isTee(value)) {
    return module.local.set(api.LocalSet.getIndex(value), api.LocalSet.getValue(value));
  }
  if (binaryen.getExpressionId(value) === binaryen.LocalGetId) return module.nop();
  return module.drop(value);
}

function isStackPointer(expr: ExpressionRef): boolean {
  return binaryen.getExpressionId(expr) === binaryen.GlobalGetId && api.GlobalGet.getName(expr) === STACK_POINTER;
}

function isConstZero(expr: ExpressionRef): boolean {
  if (binaryen.getExpressionId(expr) !== binaryen.ConstId) return false;
  const v = (binaryen.getExpressionInfo(expr) as binaryen.ConstInfo).value as unknown;
  if (typeof v === "number") return v === 0;
  const i64 = v as { low?: number; high?: number };
  return i64.low === 0 && i64.high === 0;
}

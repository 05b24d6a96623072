// Context registration and lookup. Root contexts are created from the factory registered for the
// plugin's root id (property `plugin_root_id` = PluginConfig.root_id), else the default
// registration (root id ""), else a built-in root that lets traffic through untouched — the C++
// SDK / Kong behaviour rather than solo's abort (sdk-anchors.md §3.2, §3.5). Roots, HTTP streams
// and TCP connections live in separate tables, each holding one kind of context, so dispatch reads
// them back typed without runtime downcasts.
import { proxy_get_property } from "../abi/imports";
import { WasmResult } from "../abi/enums";
import { Context, HttpContext, RootContext, TcpContext } from "./contexts";
import { IdTable } from "../runtime/id-table";
import { OUT_PTR, OUT_SIZE, clearOut, maxUtf8, putUtf8, releaseOut } from "../runtime/memory";

export type RootContextFactory = (contextId: u32) => RootContext;

/**
 * Registrations as an unmanaged list, newest first: the root id is kept as UTF-8 (compared with
 * the host's bytes as is) and the factory as the address of its static function object
 * (AssemblyScript has no closures, so factories are never garbage-collected objects).
 */
// @ts-ignore: decorator
@unmanaged
class Registration {
  rootId: usize = 0;
  rootIdSize: usize = 0;
  factory: usize = 0;
  next: Registration | null = null;
}

let registrations: Registration | null = null;
let namedRegistrations = 0;

/**
 * Registers the plugin's root context for `rootId` ("" = every plugin without a registration of
 * its own). Call at module top level. The latest registration for an id wins.
 */
export function registerRootContext(factory: RootContextFactory, rootId: string = ""): void {
  const r = new Registration();
  r.rootId = heap.alloc(maxUtf8(rootId));
  r.rootIdSize = putUtf8(rootId, r.rootId);
  r.factory = changetype<usize>(factory);
  r.next = registrations;
  registrations = r;
  if (r.rootIdSize != 0) namedRegistrations++;
}

const roots = new IdTable();
const httpContexts = new IdTable();
// Created by the first TCP connection. In a module whose roots never create TCP contexts nothing
// writes this global, so the optimizer treats it as null and drops the TCP dispatch paths.
let tcpContexts: IdTable | null = null;
// Every callback of a stream arrives in a row, so remembering the last lookup saves the probing.
let lastHttpId: u32 = 0;
let lastHttp: usize = 0;
let lastRootId: u32 = 0;
let lastRoot: usize = 0;

/** "plugin_root_id" as a property path (UTF-8). */
const PLUGIN_ROOT_ID_PATH = memory.data<u8>([
  0x70, 0x6c, 0x75, 0x67, 0x69, 0x6e, 0x5f, 0x72, 0x6f, 0x6f, 0x74, 0x5f, 0x69, 0x64,
]);

/** The registration for this plugin: for its root id, else the default one, else null. */
function findRegistration(): Registration | null {
  let r = registrations;
  // plugin_root_id is only read when some registration names a root id.
  clearOut();
  if (namedRegistrations != 0 && proxy_get_property(PLUGIN_ROOT_ID_PATH, 14, OUT_PTR, OUT_SIZE) == WasmResult.Ok) {
    const ptr = load<usize>(OUT_PTR);
    const size = <usize>load<u32>(OUT_SIZE);
    while (r && !(r.rootIdSize == size && memory.compare(r.rootId, ptr, size) == 0)) r = r.next;
    releaseOut();
    if (r) return r;
    r = registrations;
  }
  while (r && r.rootIdSize != 0) r = r.next;
  return r;
}

export function createRootContext(contextId: u32): void {
  const registration = findRegistration();
  let root: RootContext;
  if (registration === null) {
    root = new RootContext();
  } else {
    root = changetype<RootContextFactory>(registration.factory)(contextId);
  }
  root.contextId = contextId;
  roots.add(root);
}

/** Creates the stream context of a new HTTP stream or TCP connection under its root. */
export function createStreamContext(contextId: u32, rootContextId: u32): void {
  const root = findRootContext(rootContextId);
  if (root === null) return;
  const http = root.newHttpContext(contextId);
  if (http !== null) {
    http.contextId = contextId;
    http.rootContextId = rootContextId;
    httpContexts.add(http);
    // Its callbacks come next: let the first lookup hit.
    lastHttpId = contextId;
    lastHttp = changetype<usize>(http);
    return;
  }
  const tcp = root.newTcpContext(contextId);
  if (tcp !== null) {
    tcp.contextId = contextId;
    tcp.rootContextId = rootContextId;
    let table = tcpContexts;
    if (table === null) tcpContexts = table = new IdTable();
    table.add(tcp);
  }
}

export function findRootContext(contextId: u32): RootContext | null {
  // A VM usually has one root; every stream creation asks for it.
  if (contextId != lastRootId) {
    const p = roots.get(contextId);
    if (p == 0) return null;
    lastRootId = contextId;
    lastRoot = p;
  }
  return changetype<RootContext | null>(lastRoot);
}

export function findHttpContext(contextId: u32): HttpContext | null {
  if (contextId != lastHttpId) {
    const p = httpContexts.get(contextId);
    if (p == 0) return null;
    lastHttpId = contextId;
    lastHttp = p;
  }
  return changetype<HttpContext | null>(lastHttp);
}

export function findTcpContext(contextId: u32): TcpContext | null {
  const table = tcpContexts;
  return table === null ? null : changetype<TcpContext | null>(table.get(contextId));
}

/** The live context with this id, of any kind. */
export function findContext(contextId: u32): Context | null {
  let p = contextId == lastHttpId ? lastHttp : httpContexts.get(contextId);
  if (p == 0) p = roots.get(contextId);
  if (p == 0) return findTcpContext(contextId);
  return changetype<Context | null>(p);
}

export function forgetContext(contextId: u32): void {
  if (contextId == lastHttpId) {
    lastHttpId = 0;
    lastHttp = 0;
  }
  if (contextId == lastRootId) {
    lastRootId = 0;
    lastRoot = 0;
  }
  if (httpContexts.delete(contextId)) return;
  const tcp = tcpContexts;
  if (tcp === null || !tcp.delete(contextId)) roots.delete(contextId);
}

/** Live contexts: [roots, HTTP streams, TCP connections] (for tests and leak checks). */
export function liveContextCounts(): StaticArray<i32> {
  const counts = new StaticArray<i32>(3);
  counts[0] = roots.count;
  counts[1] = httpContexts.count;
  counts[2] = tcpContexts === null ? 0 : tcpContexts!.count;
  return counts;
}

// Leaves out the callback exports that can only reach the SDK's no-op defaults.
//
// Every proxy-wasm callback is optional: Envoy (proxy-wasm-cpp-host, ContextBase::on*) skips one
// the module does not export and answers as the defaults do: Continue for HTTP and TCP events,
// "done" for proxy_on_done, nothing for proxy_on_log and the close events (proxy-wasm-abi.md §3).
// assembly/exports.ts exports them all, and each dispatches to a context method whose base
// version (assembly/context/contexts.ts) does nothing and returns that same default. When no
// class in the program overrides that method, the export can do nothing else, so removing it
// changes no behaviour and saves the host a VM entry per stream and event: for the filter suite,
// 13 of the 28 callbacks per request. A filter written by hand exports only what it uses.
//
// AssemblyScript calls an overridden method through a stub named `<Base>#<method>@override`
// (assembly/exports.ts calls every handler through the base class); no stub means no override
// anywhere. An export is removed only if it is the SDK's own (assembly/exports) and every base
// method it reaches is found without such a stub; anything unexpected keeps the export.
//
// Runs as an AssemblyScript transform at afterCompile, while the functions still carry their
// names; Binaryen's optimizer then drops the code only those exports reached.
import binaryen from "binaryen";

const CONTEXTS = "assembly/context/contexts/";

/**
 * Each removable export with the handlers it may reach, and the default it shares with Envoy's
 * answer for a missing export. Lifecycle exports that set the SDK up (context create, vm start,
 * configure, delete) and the callout results (routed per call, not through an override) stay.
 */
export const OPTIONAL_CALLBACKS: Readonly<Record<string, readonly string[]>> = {
  proxy_on_request_headers: ["HttpContext#onRequestHeaders"],
  proxy_on_request_body: ["HttpContext#onRequestBody"],
  proxy_on_request_trailers: ["HttpContext#onRequestTrailers"],
  proxy_on_response_headers: ["HttpContext#onResponseHeaders"],
  proxy_on_response_body: ["HttpContext#onResponseBody"],
  proxy_on_response_trailers: ["HttpContext#onResponseTrailers"],
  proxy_on_log: ["HttpContext#onLog", "TcpContext#onLog"],
  // HTTP contexts: Envoy ignores the result; root and TCP contexts: true, as when it is missing.
  proxy_on_done: ["HttpContext#onDone", "RootContext#onDone", "TcpContext#onDone"],
  proxy_on_new_connection: ["TcpContext#onNewConnection"],
  proxy_on_downstream_data: ["TcpContext#onDownstreamData"],
  proxy_on_upstream_data: ["TcpContext#onUpstreamData"],
  proxy_on_downstream_connection_close: ["TcpContext#onDownstreamConnectionClose"],
  proxy_on_upstream_connection_close: ["TcpContext#onUpstreamConnectionClose"],
  proxy_on_tick: ["RootContext#onTick"],
  proxy_on_queue_ready: ["RootContext#onQueueReady"],
  proxy_on_foreign_function: ["RootContext#onForeignFunction"],
};

/** Removes the exports of OPTIONAL_CALLBACKS that nothing overrides; returns their names. */
export function removeUnusedCallbacks(module: binaryen.Module): string[] {
  const methods = new Set<string>();
  for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
    const name = binaryen.getFunctionInfo(module.getFunctionByIndex(i)).name;
    const at = name.lastIndexOf(CONTEXTS);
    if (at >= 0 && (at === 0 || name[at - 1] === "/")) methods.add(name.slice(at + CONTEXTS.length));
  }
  const removed: string[] = [];
  for (const [exportName, handlers] of Object.entries(OPTIONAL_CALLBACKS)) {
    if (!handlers.every((h) => methods.has(h) && !methods.has(`${h}@override`))) continue;
    const exp = module.getExport(exportName);
    if (!exp) continue;
    const info = binaryen.getExportInfo(exp);
    if (info.kind !== binaryen.ExternalFunction || !isSdkExport(info.value, exportName)) continue;
    module.removeExport(exportName);
    removed.push(exportName);
  }
  return removed;
}

/** The export's function is assembly/exports.ts's own (not one a filter wrote itself). */
function isSdkExport(internalName: string, exportName: string): boolean {
  const own = `assembly/exports/${exportName}`;
  return internalName === own || internalName.endsWith(`/${own}`);
}

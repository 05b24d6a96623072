// registerRootContext and the adapters through which the SDK drives proxy-runtime contexts: the
// SDK creates a RootAdapter per plugin (it registers one default factory, so every root comes
// here) and a StreamAdapter per HTTP stream, and forwards each ABI callback to the proxy-runtime
// object with the status it returns unchanged.
import {
  Action, HttpContext as SdkHttpContext, RootContext as SdkRootContext, getPropertyString, logCritical,
  registerRootContext as sdkRegisterRootContext,
} from "../index";
import { BaseContext, Context, RootContext, deliverHttpCallResponse } from "./contexts";

export type RootContextFactory = (context_id: u32) => RootContext;

const factories = new Map<string, RootContextFactory>();

/**
 * Registers the root context of the plugins whose root_id is `name` (the Envoy config's
 * `root_id`). Call at module top level. "" serves every plugin whose root_id has no registration of
 * its own (proxy-runtime: only an empty root_id).
 */
export function registerRootContext(root_context_factory: RootContextFactory, name: string): void {
  if (factories.size == 0) sdkRegisterRootContext(createRootAdapter);
  factories.set(name, root_context_factory);
}

/** The SDK's factory for every root: picks the proxy-runtime factory by the plugin's root_id. */
function createRootAdapter(contextId: u32): SdkRootContext {
  const found = getPropertyString(["plugin_root_id"]);
  const rootId = found === null ? "" : found;
  let factory: RootContextFactory | null = null;
  if (factories.has(rootId)) factory = factories.get(rootId);
  else if (factories.has("")) factory = factories.get("");
  if (factory === null) return new UnknownRootAdapter(rootId);
  const root = factory(contextId);
  root.context_id = contextId;
  return new RootAdapter(root);
}

/**
 * A plugin whose root_id nobody registered. proxy-runtime threw, failing the VM; the SDK alone
 * would let traffic through unfiltered, which for an auth filter with a typo in its root_id means
 * no auth. Rejecting the configuration (onConfigure false) makes Envoy refuse it, with the reason
 * in its log.
 */
class UnknownRootAdapter extends SdkRootContext {
  constructor(private rootId: string) {
    super();
  }

  onConfigure(pluginConfigurationSize: u32): bool {
    logCritical("proxy-runtime: no root context registered for root_id \"", this.rootId, "\" (registerRootContext names: ", factories.keys().join(", "), ")");
    return false;
  }
}

/** Forwards a proxy-runtime root context's callbacks. */
class RootAdapter extends SdkRootContext {
  constructor(readonly root: RootContext) {
    super();
  }

  onVmStart(vmConfigurationSize: u32): bool {
    return this.root.onStart(vmConfigurationSize);
  }
  onConfigure(pluginConfigurationSize: u32): bool {
    return this.root.onConfigure(pluginConfigurationSize);
  }
  onTick(): void {
    this.root.onTick();
  }
  onQueueReady(queueId: u32): void {
    this.root.onQueueReady(queueId);
  }
  onDone(): bool {
    return this.root.onDone();
  }
  onDelete(): void {
    deleted(this.root);
  }
  newHttpContext(contextId: u32): SdkHttpContext {
    const stream = this.root.createContext(contextId);
    stream.context_id = contextId;
    return new StreamAdapter(stream);
  }
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    deliverHttpCallResponse(token, numHeaders, bodySize, numTrailers);
  }
}

/** Forwards a proxy-runtime stream context's callbacks; statuses pass through to Envoy unchanged. */
class StreamAdapter extends SdkHttpContext {
  constructor(readonly stream: Context) {
    super();
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    return <Action>this.stream.onRequestHeaders(numHeaders, endOfStream);
  }
  onRequestBody(bodySize: u32, endOfStream: bool): Action {
    return <Action>this.stream.onRequestBody(bodySize, endOfStream);
  }
  onRequestTrailers(numTrailers: u32): Action {
    return <Action>this.stream.onRequestTrailers(numTrailers);
  }
  onResponseHeaders(numHeaders: u32, endOfStream: bool): Action {
    return <Action>this.stream.onResponseHeaders(numHeaders, endOfStream);
  }
  onResponseBody(bodySize: u32, endOfStream: bool): Action {
    return <Action>this.stream.onResponseBody(bodySize, endOfStream);
  }
  onResponseTrailers(numTrailers: u32): Action {
    return <Action>this.stream.onResponseTrailers(numTrailers);
  }
  onLog(): void {
    this.stream.onLog();
  }
  onDone(): void {
    this.stream.onDone();
  }
  onDelete(): void {
    deleted(this.stream);
  }
  onHttpCallResponse(token: u32, numHeaders: u32, bodySize: u32, numTrailers: u32): void {
    deliverHttpCallResponse(token, numHeaders, bodySize, numTrailers);
  }
}

/** Last callback of a context: its own onDelete, then its undelivered callouts are forgotten. */
function deleted(context: BaseContext): void {
  context.onDelete();
  context.forgetCallouts();
}

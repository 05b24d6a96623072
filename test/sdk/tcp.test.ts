// The SDK's TCP context (test/sdk/modules/sdk-tcp). The emulator runs HTTP streams only, so this
// test drives the network-filter callbacks itself, the way Envoy's Wasm network filter does
// (context create on the first connection event, on_new_connection, data callbacks, close
// events, then on_done → on_log → on_delete, proxy-wasm-abi.md §3.4, §6.3), with a small host
// context that owns the connection's two data buffers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BodyBuffer } from "../../host/http/body-buffer.js";
import { BodyBufferView, HostContext, type WasmBuffer } from "../../host/wasm/context.js";
import type { PluginRuntime } from "../../host/wasm/lifecycle.js";
import type { RootContext } from "../../host/wasm/root-context.js";
import { BufferType, StreamType, WasmResult } from "../../host/wasm/types.js";
import type { WasmVm } from "../../host/wasm/vm.js";
import { loadModule, said } from "./emulated.js";

/** A network-filter connection as the host sees it: downstream and upstream data buffers. */
class Connection extends HostContext {
  readonly downstream = new BodyBuffer();
  readonly upstream = new BodyBuffer();
  readonly continued: StreamType[] = [];
  readonly closed: StreamType[] = [];

  constructor(
    vm: WasmVm,
    private readonly root: RootContext,
  ) {
    super(vm, vm.allocContextId(), root.plugin, root.vmConfiguration);
    vm.contexts.set(this.id, this);
  }
  override rootContext(): HostContext {
    return this.root;
  }
  override getBuffer(type: BufferType): WasmBuffer | null {
    if (type === BufferType.DownstreamData) return new BodyBufferView(this.downstream);
    if (type === BufferType.UpstreamData) return new BodyBufferView(this.upstream);
    return super.getBuffer(type);
  }
  override continueStream(type: StreamType): WasmResult {
    if (type === StreamType.Upstream) return WasmResult.Unimplemented;
    this.continued.push(type);
    return WasmResult.Ok;
  }
  override closeStream(type: StreamType): WasmResult {
    this.closed.push(type);
    return WasmResult.Ok;
  }

  call(name: string, ...args: number[]): number {
    return this.vm.withDeferredActions(() => this.vm.call(name, this, this.id, ...args));
  }
  open(): number {
    this.vm.withDeferredActions(() => this.vm.call("proxy_on_context_create", this, this.id, this.root.id));
    return this.call("proxy_on_new_connection");
  }
  fromDownstream(data: string, endOfStream = false): number {
    this.downstream.append(data);
    return this.call("proxy_on_downstream_data", this.downstream.length, endOfStream ? 1 : 0);
  }
  fromUpstream(data: string): number {
    this.upstream.append(data);
    return this.call("proxy_on_upstream_data", this.upstream.length, 0);
  }
  /** Envoy onCloseTCP: on_done, on_log, on_delete (§6.3). */
  finish(): void {
    this.call("proxy_on_done");
    this.call("proxy_on_log");
    this.call("proxy_on_delete");
    this.vm.contexts.delete(this.id);
  }
}

async function connection(): Promise<{ conn: Connection; emulator: Awaited<ReturnType<typeof loadModule>>["emulator"] }> {
  const { emulator, plugin } = await loadModule("sdk-tcp");
  const { vm, root } = (plugin.plugin as PluginRuntime).workerState(0);
  assert.ok(root, "the worker has a root context");
  return { conn: new Connection(vm, root), emulator };
}

describe("SDK TCP context", () => {
  it("creates a TcpContext and rewrites data in both directions", async () => {
    const { conn, emulator } = await connection();
    assert.equal(conn.open(), 0);
    assert.equal(conn.fromDownstream("hello"), 0, "Continue");
    assert.equal(conn.downstream.toString(), "<HELLO>");
    assert.equal(conn.fromUpstream("reply"), 0);
    assert.equal(conn.upstream.toString(), "reply!");
    conn.call("proxy_on_downstream_connection_close", 2);
    conn.call("proxy_on_upstream_connection_close", 1);
    conn.finish();
    assert.deepEqual(said(emulator, "tcp"), [
      "new connection with id",
      "downstream 5 hello",
      "upstream rep",
      "upstream append Ok",
      "downstream closed by remote",
      "upstream closed by local",
      "done",
      "log",
      "delete",
    ]);
  });

  it("pauses downstream data (StopIteration) and resumes it from the root", async () => {
    const { conn, emulator } = await connection();
    conn.open();
    assert.equal(conn.fromDownstream("hold"), 1, "Pause is StopIteration");
    assert.deepEqual(conn.continued, []);
    const { vm } = conn;
    const rootId = (conn.rootContext() as RootContext).id;
    vm.withDeferredActions(() => vm.call("proxy_on_tick", conn.rootContext(), rootId));
    assert.deepEqual(conn.continued, [StreamType.Downstream]);
    assert.ok(said(emulator, "tcp").includes("resume Ok"));
  });

  it("closes the connection", async () => {
    const { conn, emulator } = await connection();
    conn.open();
    conn.fromDownstream("close");
    assert.deepEqual(conn.closed, [StreamType.Downstream]);
    assert.ok(said(emulator, "tcp").includes("close Ok"));
  });
});

// Test module for the rate-limit proxy tests: tells which worker VM served a request. Each VM
// takes the next number from a shared-data counter when it is configured (the canary takes one
// too) and adds it to every response as x-worker-vm, so a test can see that admitted requests
// were spread over several workers. Envoy has no attribute naming the worker; this is how a test
// tells VMs apart through the ABI alone.
export * from "proxy-wasm-as/assembly/exports";
import {
  Action, HttpContext, RootContext, SharedDataUpdate, WasmResult, registerRootContext, updateSharedData,
} from "proxy-wasm-as";

class NextNumber implements SharedDataUpdate {
  taken: u32 = 0;
  update(current: ArrayBuffer | null): ArrayBuffer | null {
    this.taken = current === null || current.byteLength != 4 ? 1 : load<u32>(changetype<usize>(current)) + 1;
    const next = new ArrayBuffer(4);
    store<u32>(changetype<usize>(next), this.taken);
    return next;
  }
}

let vmNumber = "0";

class ProbeRoot extends RootContext {
  onConfigure(size: u32): bool {
    const next = new NextNumber();
    if (updateSharedData("rl-worker-probe:vms", next, 100) != WasmResult.Ok) return false;
    vmNumber = next.taken.toString();
    return true;
  }
  newHttpContext(contextId: u32): HttpContext {
    return new Probe();
  }
}

class Probe extends HttpContext {
  onResponseHeaders(numHeaders: u32, endOfStream: bool): Action {
    this.addResponseHeader("x-worker-vm", vmNumber);
    return Action.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new ProbeRoot());

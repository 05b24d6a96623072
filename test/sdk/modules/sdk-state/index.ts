// Exercises the plugin-wide parts of the SDK: configuration, shared data (CAS and the update
// helper), shared queues, metrics, time, foreign functions, properties and attributes, log-level
// gating. The request header x-scenario picks what a stream does; observations are logged at info
// ("<scenario>: ...") or warn for the log-level scenario.
export * from "proxy-wasm-as/assembly/exports";
import {
  Action, Counter, Gauge, Histogram, HttpContext, LogLevel, RootContext, SharedDataUpdate, callForeignFunction,
  clearRouteCache, dequeueSharedQueue, enqueueSharedQueue, getConnectionId, getCurrentTimeNanoseconds,
  getDestinationPort, getForeignFunctionArguments, getMonotonicTimeNanoseconds, getNode, getPluginName, getPluginRootId,
  getProperty, getPropertyBool, getPropertyBoolOr, getPropertyInt64, getPropertyInt64Or, getPropertyMap, getPropertyString,
  getPropertyUint64Or, getRequestMethod, getRequestPath, getRouteName, getRouteNameBytes, getSharedData, getSourceAddress,
  getTrafficDirection, getVmConfigurationString, lastWasmResult, logDebug, logEnabled, logInfo, logTrace, logWarn, metricNameWithTags, parseJson, registerRootContext, registerSharedQueue,
  resolveSharedQueue, setPropertyString, setSharedData, updateSharedData, wasmResultName,
} from "proxy-wasm-as";

function text(b: ArrayBuffer | null): string {
  return b === null ? "null" : String.UTF8.decode(b);
}

function orNull(s: string | null): string {
  return s === null ? "null" : s;
}

/** Adds `step` to a decimal counter in shared data; declines when it would exceed `limit`. */
class AddToCounter implements SharedDataUpdate {
  calls: i32 = 0;
  constructor(private step: i32, private limit: i32) {}
  update(current: ArrayBuffer | null): ArrayBuffer | null {
    this.calls++;
    const value = current === null ? 0 : I32.parseInt(String.UTF8.decode(current));
    if (value + this.step > this.limit) return null;
    return String.UTF8.encode((value + this.step).toString());
  }
}

// Metrics are declared at top level: the SDK defines them on first use, inside a callback.
const requests = new Counter("sdk_requests");
const inFlight = new Gauge("sdk_in_flight");
const sizes = new Histogram("sdk_sizes");
const tagged = new Counter(metricNameWithTags("sdk_tagged_total", ["reporter", "code"], ["destination", "200"]));

class StateRoot extends RootContext {
  queue: u32 = 0;
  greeting: string = "";

  onVmStart(size: u32): bool {
    logInfo("vm: configuration=", orNull(getVmConfigurationString()), " size=", size.toString());
    return true;
  }

  onConfigure(size: u32): bool {
    const parsed = parseJson(orNull(this.getPluginConfigurationString()));
    if (!parsed.ok) {
      logWarn("config: ", parsed.describe());
      return false;
    }
    this.greeting = orNull(parsed.value!.getString("greeting"));
    this.queue = registerSharedQueue("sdk-queue");
    logInfo("config: greeting=", this.greeting, " queue registered=", this.queue != 0 ? "yes" : "no");
    return true;
  }

  onQueueReady(queueId: u32): void {
    let item = dequeueSharedQueue(queueId);
    while (item !== null) {
      logInfo("queue: got ", text(item), " on my queue: ", queueId == this.queue ? "yes" : "no");
      item = dequeueSharedQueue(queueId);
    }
    logInfo("queue: then ", wasmResultName(lastWasmResult()));
  }

  onForeignFunction(functionId: u32, argumentsSize: u32): void {
    logInfo("foreign-in: id=", functionId.toString(), " size=", argumentsSize.toString(), " args=", text(getForeignFunctionArguments()));
  }

  newHttpContext(contextId: u32): HttpContext {
    return new StateStream(this);
  }
}

class StateStream extends HttpContext {
  constructor(private root: StateRoot) {
    super();
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): Action {
    const sc = orNull(this.getRequestHeader("x-scenario"));
    if (sc == "shared") {
      const absent = getSharedData("sdk-key");
      logInfo(sc, ": absent=", absent === null ? "null" : "value", " ", wasmResultName(lastWasmResult()));
      logInfo(sc, ": set ", wasmResultName(setSharedData("sdk-key", String.UTF8.encode("v1"))));
      const first = getSharedData("sdk-key")!;
      logInfo(sc, ": value=", text(first.value), " cas nonzero=", first.cas != 0 ? "yes" : "no");
      logInfo(sc, ": set with stale cas ", wasmResultName(setSharedData("sdk-key", String.UTF8.encode("v2"), first.cas + 1000)));
      logInfo(sc, ": set with cas ", wasmResultName(setSharedData("sdk-key", String.UTF8.encode("v2"), first.cas)));
      logInfo(sc, ": set with old cas ", wasmResultName(setSharedData("sdk-key", String.UTF8.encode("v3"), first.cas)));
      logInfo(sc, ": now=", text(getSharedData("sdk-key")!.value));
    } else if (sc == "update") {
      const add = new AddToCounter(5, 100);
      const result = updateSharedData("sdk-counter", add, 3);
      const stored = getSharedData("sdk-counter");
      logInfo(sc, ": ", wasmResultName(result), " attempts=", add.calls.toString());
      logInfo(sc, ": value=", stored === null ? "null" : text(stored.value));
    } else if (sc == "queue") {
      const token = resolveSharedQueue("", "sdk-queue");
      logInfo(sc, ": resolved same token=", token == this.root.queue ? "yes" : "no");
      logInfo(sc, ": enqueue ", wasmResultName(enqueueSharedQueue(token, String.UTF8.encode("job-1"))));
      logInfo(sc, ": enqueue ", wasmResultName(enqueueSharedQueue(token, String.UTF8.encode("job-2"))));
      logInfo(sc, ": unknown queue token=", resolveSharedQueue("", "no-such-queue").toString(), " ", wasmResultName(lastWasmResult()));
      logInfo(sc, ": enqueue to bad token ", wasmResultName(enqueueSharedQueue(token + 1000, String.UTF8.encode("x"))));
    } else if (sc == "metrics") {
      requests.increment();
      requests.increment(2);
      logInfo(sc, ": counter=", requests.get().toString(), " id nonzero=", requests.id != 0 ? "yes" : "no");
      logInfo(sc, ": counter by 0 ", wasmResultName(requests.increment(0)));
      inFlight.set(10);
      inFlight.add(-3);
      logInfo(sc, ": gauge=", inFlight.get().toString());
      sizes.record(42);
      sizes.record(7);
      tagged.increment();
      logInfo(sc, ": tagged name=", tagged.name);
    } else if (sc == "time") {
      const wall = getCurrentTimeNanoseconds();
      const mono = getMonotonicTimeNanoseconds();
      logInfo(sc, ": wall=", wall.toString(), " mono=", mono.toString());
    } else if (sc == "foreign") {
      const args = String.UTF8.encode("ping");
      logInfo(sc, ": echo=", text(callForeignFunction("sdk_echo", args)));
      logInfo(sc, ": unknown=", text(callForeignFunction("no_such_function")), " ", wasmResultName(lastWasmResult()));
      logInfo(sc, ": clear_route_cache ", wasmResultName(clearRouteCache()));
    } else if (sc == "properties") {
      logInfo(sc, ": path=", orNull(getRequestPath()), " method=", orNull(getRequestMethod()));
      logInfo(sc, ": source=", orNull(getSourceAddress()), " destination port=", getDestinationPort()!.value.toString());
      logInfo(sc, ": plugin=", orNull(getPluginName()), " root id=", orNull(getPluginRootId()));
      logInfo(sc, ": connection id nonzero=", getConnectionId()!.value != 0 ? "yes" : "no");
      const mtls = getPropertyBool(["connection", "mtls"]);
      logInfo(sc, ": mtls=", mtls === null ? "null" : (mtls.value ? "true" : "false"));
      const headers = getPropertyMap(["request", "headers"])!;
      let joined = "";
      for (let i = 0; i < headers.length; i++) if (headers[i].name == "x-multi") joined = headers[i].value;
      logInfo(sc, ": request.headers x-multi=", joined);
      const time = getPropertyInt64(["request", "time"]);
      logInfo(sc, ": request.time ns=", time === null ? "null" : time.value.toString());
      // The allocation-free getters: the value, or the fallback with lastWasmResult saying why.
      logInfo(sc, ": request.time or=", getPropertyInt64Or(["request", "time"], -1).toString(), " ", wasmResultName(lastWasmResult()));
      logInfo(sc, ": missing int or=", getPropertyInt64Or(["no_such", "int"], -7).toString(), " ", wasmResultName(lastWasmResult()));
      logInfo(sc, ": path as int or=", getPropertyUint64Or(["request", "path"], 9).toString(), " ", wasmResultName(lastWasmResult()));
      logInfo(sc, ": mtls or=", getPropertyBoolOr(["connection", "mtls"], true) ? "true" : "false", " ", wasmResultName(lastWasmResult()));
      logInfo(sc, ": traffic direction=", getTrafficDirection().toString());
      const routeBytes = getRouteNameBytes();
      logInfo(sc, ": route bytes=", routeBytes === null ? "null" : String.UTF8.decode(routeBytes));
      const node = getNode()!;
      logInfo(sc, ": node id=", node.id, " metadata=", node.metadata.stringify());
      logInfo(sc, ": route=", orNull(getRouteName()));
      logInfo(sc, ": missing=", getProperty(["no_such", "thing"]) === null ? "null" : "value", " ", wasmResultName(lastWasmResult()));
      logInfo(sc, ": set ", wasmResultName(setPropertyString(["sdk_note"], "noted")));
      logInfo(sc, ": read back=", orNull(getPropertyString(["sdk_note"])));
      logInfo(sc, ": greeting from root=", this.root.greeting);
    } else if (sc == "log") {
      // Nothing is encoded or sent below the host's level, and the level is asked for once per callback.
      logTrace("log: trace message");
      logDebug("log: debug message");
      logInfo("log: info message");
      logWarn("log: debug enabled=", logEnabled(LogLevel.Debug) ? "yes" : "no", " warn enabled=", logEnabled(LogLevel.Warn) ? "yes" : "no");
    }
    return Action.Continue;
  }
}

registerRootContext((contextId: u32): RootContext => new StateRoot());


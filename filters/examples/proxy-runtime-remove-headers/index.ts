// A filter in @solo-io/proxy-runtime's style (its "remove-headers" example): the plugin
// configuration is a comma-separated list of prefixes, e.g. "x-envoy-,server", and every
// response header whose name starts with one of them is removed. Without a configuration the
// filter does nothing.
export * from "proxy-wasm-as/assembly/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context, log, LogLevelValues,
} from "proxy-wasm-as/assembly/proxy-runtime";

class RemoveHeadersRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new RemoveHeaders(context_id, this);
  }
}

class RemoveHeaders extends Context {
  prefixes: Array<string> = [];

  constructor(context_id: u32, root_context: RemoveHeadersRoot) {
    super(context_id, root_context);
    const configured = root_context.getConfiguration();
    if (configured != "") {
      this.prefixes = configured.split(",");
    }
  }

  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    if (this.prefixes.length == 0) {
      return FilterHeadersStatusValues.Continue;
    }
    const headers = stream_context.headers.response.get_headers();
    for (let i = 0; i < headers.length; i++) {
      const name = String.UTF8.decode(headers[i].key);
      for (let j = 0; j < this.prefixes.length; j++) {
        if (name.startsWith(this.prefixes[j])) {
          stream_context.headers.response.remove(name);
          log(LogLevelValues.debug, "remove-headers: removed " + name);
          break;
        }
      }
    }
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new RemoveHeadersRoot(context_id); }, "remove_headers");

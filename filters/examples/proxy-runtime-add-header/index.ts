// A filter in @solo-io/proxy-runtime's style (its "addheader" example): every response gets a
// `hello` header, whose value is the plugin configuration, or "world!" without one.
export * from "proxy-wasm-as/assembly/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
} from "proxy-wasm-as/assembly/proxy-runtime";

class AddHeaderRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new AddHeader(context_id, this);
  }
}

class AddHeader extends Context {
  constructor(context_id: u32, root_context: AddHeaderRoot) {
    super(context_id, root_context);
  }

  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const configured = this.root_context.getConfiguration();
    stream_context.headers.response.add("hello", configured == "" ? "world!" : configured);
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new AddHeaderRoot(context_id); }, "add_header");

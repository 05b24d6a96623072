// Property paths (proxy-wasm-abi.md §5.2).
import { decodePath, encodePath } from "../codec/path";
import { hexOf, utf8 } from "./helpers";

describe("encodePath", () => {
  it("joins segments with a single NUL and no trailing NUL", () => {
    // request.headers[":path"] from the reference
    expect(hexOf(encodePath(["request", "headers", ":path"]))).toBe("72657175657374006865616465727300" + "3a70617468");
  });

  it("encodes one segment as its bytes", () => {
    expect(hexOf(encodePath(["plugin_root_id"]))).toBe(hexOf(utf8("plugin_root_id")));
  });

  it("encodes non-ASCII segments as UTF-8", () => {
    expect(hexOf(encodePath(["filter_state", "clé"]))).toBe(hexOf(utf8("filter_state")) + "00" + "636cc3a9");
  });

  it("keeps empty segments", () => {
    expect(hexOf(encodePath(["a", "", "b"]))).toBe("61000062");
    expect(encodePath([]).byteLength).toBe(0);
  });
});

describe("decodePath", () => {
  it("round-trips segments", () => {
    const back = decodePath(encodePath(["xds", "node", "metadata", "NAME"]));
    expect(back.length).toBe(4);
    expect(back[0]).toBe("xds");
    expect(back[3]).toBe("NAME");
  });

  it("tolerates a trailing NUL as Envoy does", () => {
    const back = decodePath(utf8("request\0path\0"));
    expect(back.length).toBe(2);
    expect(back[1]).toBe("path");
  });
});

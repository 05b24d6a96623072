// host/http/header-map.ts: the Envoy HeaderMapImpl behaviours filters can observe.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HeaderMap } from "../../host/http/header-map.js";

describe("HeaderMap", () => {
  it("lower-cases keys, returns the first value, and sums key+value bytes like byteSize()", () => {
    const h = new HeaderMap([["X-A", "1"], ["x-a", "22"]]);
    assert.equal(h.get("x-a"), "1");
    assert.deepEqual(h.getAll("X-A"), ["1", "22"]);
    assert.equal(h.size, 2);
    assert.equal(h.byteSize(), 3 + 1 + 3 + 2);
  });

  it("keeps pseudo-headers ahead of regular headers, in their own insertion order (pseudo_headers_end_)", () => {
    const h = new HeaderMap([["content-type", "text/plain"]]);
    h.set(":status", "200");
    h.add("x-b", "1");
    h.add(":x", "y");
    assert.deepEqual(h.entries(), [[":status", "200"], [":x", "y"], ["content-type", "text/plain"], ["x-b", "1"]]);
  });

  it("replaces every value of a key in place of the first (setCopy)", () => {
    const h = new HeaderMap([["a", "1"], ["b", "2"], ["a", "3"]]);
    h.set("A", "9");
    assert.deepEqual(h.entries(), [["a", "9"], ["b", "2"]]);
  });
});

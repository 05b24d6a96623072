import { PeerCache, latin1Key } from "../peer-cache";

function peer(n: i32): ArrayBuffer {
  const b = new ArrayBuffer(1);
  store<u8>(changetype<usize>(b), <u8>n);
  return b;
}

describe("peer cache", () => {
  it("returns what was put, null for unknown ids", () => {
    const cache = new PeerCache(4);
    expect(cache.enabled).toBe(true);
    cache.put("a", peer(1));
    expect(load<u8>(changetype<usize>(cache.get("a")!))).toBe(1);
    expect(cache.get("b")).toBeNull();
  });

  it("erases the oldest max/4 entries once it holds more than max (Istio's rule)", () => {
    const cache = new PeerCache(8);
    for (let i = 0; i < 9; i++) cache.put("id" + i.toString(), peer(i));
    expect(cache.size).toBe(9, "up to max + 1 entries, as in Istio");
    cache.put("id9", peer(9));
    expect(cache.size).toBe(8, "two evicted, one added");
    expect(cache.get("id0")).toBeNull();
    expect(cache.get("id1")).toBeNull();
    expect(cache.get("id2")).not.toBeNull();
    expect(cache.get("id9")).not.toBeNull();
  });

  it("stays bounded for sizes where max/4 is 0", () => {
    const cache = new PeerCache(1);
    for (let i = 0; i < 100; i++) cache.put("id" + i.toString(), peer(i));
    expect(cache.size).toBeLessThanOrEqual(2);
    expect(cache.get("id99")).not.toBeNull();
  });

  it("is disabled with max 0", () => {
    const cache = new PeerCache(0);
    expect(cache.enabled).toBe(false);
    cache.put("a", peer(1));
    expect(cache.size).toBe(0);
    expect(cache.get("a")).toBeNull();
  });

  it("keys distinct byte sequences distinctly", () => {
    const ff = new ArrayBuffer(1);
    store<u8>(changetype<usize>(ff), 0xff);
    const fe = new ArrayBuffer(1);
    store<u8>(changetype<usize>(fe), 0xfe);
    expect(latin1Key(ff)).not.toBe(latin1Key(fe));
    expect(latin1Key(String.UTF8.encode("sidecar~10.0.0.1~a.ns~ns.svc.cluster.local"))).toBe("sidecar~10.0.0.1~a.ns~ns.svc.cluster.local");
    expect(latin1Key(new ArrayBuffer(0))).toBe("");
  });
});

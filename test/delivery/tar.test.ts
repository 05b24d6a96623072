import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readTar, TarFormatError, writeTar } from "../../host/oci/tar.js";

const files = [
  { name: "runtime-config.json", data: Buffer.from('{"type":"envoy_proxy"}') },
  { name: "plugin.wasm", data: Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...Array(600).fill(7)]) },
];

test("writeTar is deterministic and sorts entries", () => {
  const a = writeTar(files);
  const b = writeTar([...files].reverse());
  assert.ok(a.equals(b), "entry order must not change the bytes");
  assert.deepEqual(readTar(a).map((f) => f.name), ["plugin.wasm", "runtime-config.json"]);
  assert.equal(a.length % 512, 0);
});

test("readTar round-trips contents, and GNU tar reads what we write", (t) => {
  const archive = writeTar(files);
  for (const f of files) assert.ok(readTar(archive).find((e) => e.name === f.name)!.data.equals(f.data));
  let listing: string;
  const dir = mkdtempSync(join(tmpdir(), "tar-test-"));
  try {
    writeFileSync(join(dir, "layer.tar"), archive);
    try {
      listing = execFileSync("tar", ["-tvf", join(dir, "layer.tar")], { encoding: "utf8" });
    } catch {
      t.skip("no tar binary to cross-check with");
      return;
    }
    // fixed owner and mtime: what makes the layer digest reproducible
    assert.match(listing, /-rw-r--r-- 0\/0\s+608 1970-01-01 00:00 plugin\.wasm/);
    execFileSync("tar", ["-xf", join(dir, "layer.tar"), "-C", dir]);
    assert.ok(readFileSync(join(dir, "plugin.wasm")).equals(files[1]!.data));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readTar rejects a corrupted header and a truncated archive", () => {
  const archive = writeTar(files);
  const corrupt = Buffer.from(archive);
  corrupt[10] ^= 0xff;
  assert.throws(() => readTar(corrupt), (e: Error) => e instanceof TarFormatError && /checksum/.test(e.message));
  assert.throws(() => readTar(archive.subarray(0, 700)), /runs past the end/);
  assert.throws(() => readTar(archive.subarray(0, 512 + 1024)), /end-of-archive/);
});

test("writeTar refuses names it cannot store faithfully", () => {
  assert.throws(() => writeTar([{ name: "x".repeat(101), data: Buffer.alloc(0) }]), /1\.\.100 bytes/);
  assert.throws(() => writeTar([{ name: "/abs", data: Buffer.alloc(0) }]), /relative/);
  assert.throws(() => writeTar([{ name: "../up", data: Buffer.alloc(0) }]), /relative/);
  assert.throws(() => writeTar([files[0]!, files[0]!]), /duplicate tar entry "runtime-config.json"/);
});

// docs/migrating-from-proxy-runtime.md: it accounts for every name of proxy-runtime's API (and for
// what the compatibility layer adds), gives the import specifiers the layer really answers to, and
// its example of moving on to the SDK's own API — built from the page with the page's asconfig —
// behaves like the proxy-runtime-style auth example it replaces.
import asc from "assemblyscript/asc";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Emulator, type EmulatedStream } from "../../host/emulator/index.js";
import { moduleBytes, projectRoot } from "../support/modules.js";
import { compatAdditions, soloExports, soloMembers, specifiers } from "./solo-api.js";
import { request } from "./support.js";

const guide = readFileSync(join(projectRoot, "docs", "migrating-from-proxy-runtime.md"), "utf8");

/** Identifiers written as inline code (`...`) in the guide's text, outside code blocks. */
const codeIdentifiers = new Set(
  [...guide.replace(/```[\s\S]*?```/g, "").matchAll(/`([^`\n]+)`/g)].flatMap((m) => m[1]!.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []),
);

/** The guide's files, from blocks marked `<!-- file: PATH -->`. */
const files = new Map([...guide.matchAll(/<!-- file: (\S+) -->\n\s*```[a-z]*\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!.replace(/^ {3}/gm, "")]));

function section(title: string): string {
  const start = guide.indexOf(`## ${title}`);
  assert.ok(start >= 0, `the guide has no "## ${title}" section`);
  const next = guide.indexOf("\n## ", start + 1);
  return guide.slice(start, next < 0 ? undefined : next);
}

describe("migration guide", () => {
  it("names every export of proxy-runtime, every class member filters use, and every addition", () => {
    const missing = [...soloExports.map((e) => e.name), ...soloMembers, ...compatAdditions].filter((n) => !codeIdentifiers.has(n));
    assert.deepEqual(missing, []);
  });

  it("explains each unsupported name in its \"Not supported\" section", () => {
    const notSupported = section("5. Not supported");
    const unexplained = soloExports.filter((e) => e.support === "unsupported" && !notSupported.includes(`\`${e.name}\``));
    assert.deepEqual(unexplained.map((e) => e.name), []);
  });

  it("gives the import specifiers the compatibility layer answers to", () => {
    for (const [solo, ours] of specifiers) {
      assert.ok(guide.includes(`from "${solo}";\``), `proxy-runtime's ${solo}`);
      assert.ok(guide.includes(`from "${ours}";\``), `ours: ${ours}`);
    }
  });

  describe("moving on to the SDK: the native auth example", () => {
    let project = "";
    let native: Uint8Array;

    before(async () => {
      project = mkdtempSync(join(tmpdir(), "native-auth-"));
      for (const [path, text] of files) {
        mkdirSync(dirname(join(project, path)), { recursive: true });
        writeFileSync(join(project, path), text);
      }
      mkdirSync(join(project, "node_modules"));
      symlinkSync(projectRoot, join(project, "node_modules", "proxy-wasm-as"), "dir");
      let stderr = "";
      const { error } = await asc.main(
        ["assembly/native-auth.ts", "--baseDir", project, "--config", "asconfig.json", "--target", "release"],
        {
          stdout: { write: () => true } as never,
          stderr: { write: (s: string | Uint8Array) => ((stderr += String(s)), true) } as never,
        },
      );
      assert.equal(error, null, `the guide's native auth does not compile:\n${stderr}`);
      native = readFileSync(join(project, "build", "release.wasm"));
    });

    after(() => {
      if (project) rmSync(project, { recursive: true, force: true });
    });

    /** What a client and the upstream see for one request, with the auth service answering `answer`. */
    async function observe(wasm: Uint8Array, answer: "200" | "403" | "reset" | "no cluster") {
      const emulator = new Emulator({ clusters: answer === "no cluster" ? [] : ["auth_service"] });
      await emulator.loadPlugin({ wasm, name: "auth", rootId: "auth", configuration: "auth_service" });
      const s: EmulatedStream = emulator.newStream();
      const headerStatus = s.sendRequestHeaders(request("/x", { "x-user": "alice" }), { endStream: false });
      const bodyStatus = s.sendRequestBody("payload", { endStream: true });
      const call = emulator.pendingHttpCalls()[0];
      const callout = call ? { cluster: call.cluster, timeoutMs: call.timeoutMs, headers: call.headers.entries() } : null;
      if (call && answer === "reset") emulator.failHttpCall(call);
      else if (call) emulator.respondHttpCall(call, { status: Number(answer) });
      if (!s.localReply && s.upstream.headers) s.respond({ status: 200, body: "ok" });
      s.complete();
      return {
        headerStatus, bodyStatus, callout,
        upstream: s.upstream.headers?.entries() ?? null,
        upstreamBody: s.upstream.body.toString(),
        reply: s.localReply ? { status: s.localReply.status, details: s.localReply.details } : null,
        downstream: s.downstream.headers?.entries() ?? null,
      };
    }

    for (const answer of ["200", "403", "reset", "no cluster"] as const) {
      it(`behaves like proxy-runtime-auth when the auth service answers ${answer}`, async () => {
        const theirs = await observe(await moduleBytes("proxy-runtime-auth"), answer);
        const ours = await observe(native, answer);
        assert.deepEqual(ours, theirs);
        if (answer === "200") assert.equal(ours.upstreamBody, "payload");
        else assert.notEqual(ours.reply, null);
      });
    }
  });
});

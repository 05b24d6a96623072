// A controllable upstream for router tests: a Node HTTP/1.1 server on an ephemeral loopback port
// that records what it receives (headers as raw pairs, bodies, connections) and answers with a
// per-test handler.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  path: string;
  /** Lower-cased header names with values, in wire order. */
  headers: Array<[string, string]>;
  body: Buffer;
}

export interface TestUpstream {
  port: number;
  received: Received[];
  connections: number;
  header(i: number, name: string): string | undefined;
  close(): Promise<void>;
}

export type Handler = (req: Received, res: http.ServerResponse, attempt: number) => void | Promise<void>;

export async function startUpstream(handler: Handler): Promise<TestUpstream> {
  const received: Received[] = [];
  const state = { connections: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = req.rawHeaders;
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < raw.length; i += 2) headers.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
      const r: Received = { method: req.method ?? "", path: req.url ?? "", headers, body: Buffer.concat(chunks) };
      received.push(r);
      void Promise.resolve(handler(r, res, received.length)).catch((e: Error) => res.destroy(e));
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on("connection", () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    get connections() {
      return state.connections;
    },
    header: (i, name) => received[i]?.headers.find(([k]) => k === name)?.[1],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

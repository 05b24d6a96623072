// An independent witness of what reached the upstream: an HTTP forwarder in front of httpbin that
// counts every request it passes on ("<METHOD> <path>"), so retries are proven by requests
// actually received, not by the proxy's own counters or headers.
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface CountingUpstream {
  port: number;
  /** Requests received per "<METHOD> <path>". */
  count(method: string, path: string): number;
  stop(): Promise<void>;
}

export async function startCountingUpstream(target: { address: string; port: number }): Promise<CountingUpstream> {
  const counts = new Map<string, number>();
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    req.socket.on("error", () => undefined);
    const key = `${req.method} ${req.url}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const upstream = http.request(
      { host: target.address, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        answer.on("error", () => res.destroy());
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // The proxy resets attempts it gives up on: each side just closes the other.
    upstream.on("error", () => res.destroy());
    req.on("error", () => upstream.destroy());
    res.on("error", () => upstream.destroy());
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    count: (method, path) => counts.get(`${method} ${path}`) ?? 0,
    stop: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// Which context made each HTTP/gRPC callout. Envoy owns callouts by the root context and always
// calls back with the root context id (proxy-wasm-abi.md §2.7, §3.5, §8.2); the SDK keeps
// token → calling context id, so the result reaches the context that made the call, and is
// dropped if that context was deleted meanwhile (the Go SDK's fix). No closures. Callouts in flight
// are few, so an unmanaged list is enough (and keeps the module small).

// @ts-ignore: decorator
@unmanaged
class Callout {
  token: u32 = 0;
  originId: u32 = 0;
  next: usize = 0;
}

let callouts: usize = 0;
let calloutCount: i32 = 0;
// Set by the first callout. A module that makes none never writes it, so the optimizer drops
// the result routing (and this list) altogether.
let calloutsMade = false;

export function trackCallout(token: u32, originId: u32): void {
  calloutsMade = true;
  const c = new Callout();
  c.token = token;
  c.originId = originId;
  c.next = callouts;
  callouts = changetype<usize>(c);
  calloutCount++;
}

/** The id of the context that made callout `token`, or 0 if the SDK does not know the token. */
export function calloutOrigin(token: u32): u32 {
  if (!calloutsMade) return 0;
  let p = callouts;
  while (p != 0 && changetype<Callout>(p).token != token) p = changetype<Callout>(p).next;
  return p == 0 ? 0 : changetype<Callout>(p).originId;
}

export function untrackCallout(token: u32): void {
  if (!calloutsMade) return;
  let previous: usize = 0;
  let p = callouts;
  while (p != 0 && changetype<Callout>(p).token != token) {
    previous = p;
    p = changetype<Callout>(p).next;
  }
  if (p == 0) return;
  const next = changetype<Callout>(p).next;
  if (previous != 0) changetype<Callout>(previous).next = next;
  else callouts = next;
  heap.free(p);
  calloutCount--;
}

/** Callouts in flight (for tests and leak checks). */
export function pendingCallouts(): i32 {
  return calloutCount;
}

// Token kinds (§2.7): HTTP calls are 4n, gRPC unary calls 4n+1, gRPC streams 4n+2.
// @ts-ignore: decorator
@inline export function isGrpcCallToken(token: u32): bool {
  return (token & 3) == 1;
}
// @ts-ignore: decorator
@inline export function isGrpcStreamToken(token: u32): bool {
  return (token & 3) == 2;
}

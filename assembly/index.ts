@external("env", "proxy_log") declare function proxy_log(level: i32, ptr: usize, len: usize): i32;
// @ts-ignore
@global export function __proxy_abort(msg: string | null, file: string | null, line: u32, col: u32): void {
  const s = String.UTF8.encode(msg ? msg : "abort");
  proxy_log(5, changetype<usize>(s), s.byteLength);
  unreachable();
}
export function sdkHello(): i32 { return 42; }
export class Foo { x: i32 = 1; bar(): i32 { assert(this.x > 0, "x must be positive"); return this.x; } }

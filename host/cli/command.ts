export interface Command {
  name: string;
  /** One line for `proxy-wasm help`. */
  summary: string;
  /** Returns the process exit code. */
  run(args: string[]): Promise<number>;
}

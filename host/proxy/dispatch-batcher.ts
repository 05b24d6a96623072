// Envoy's HTTP/1 codecs hand a body to the filter chain once per socket read ("dispatch"): a small
// body that arrives with its end comes as one data frame with end_stream set, not as a frame
// followed by an empty one. Node delivers chunks and the end as separate events; this batches the
// chunks of one event-loop turn and attaches the end when it arrives in the same turn.
import { BodyBuffer } from "../http/body-buffer.js";

export class DispatchBatcher {
  private pending: Buffer[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  private ended = false;

  constructor(private readonly deliver: (data: BodyBuffer, endStream: boolean) => void) {}

  push(chunk: Buffer): void {
    if (this.ended) return;
    this.pending.push(chunk);
    this.scheduled ??= setImmediate(() => this.flush(false));
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.flush(true);
  }

  /** Delivers what is pending now, without ending (trailers follow). */
  flushPending(): void {
    this.flush(false);
  }

  /** Drops anything pending (the stream was reset). */
  cancel(): void {
    this.ended = true;
    this.pending = [];
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  private flush(endStream: boolean): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (!this.pending.length && !endStream) return;
    const data = new BodyBuffer();
    for (const c of this.pending) data.append(c);
    this.pending = [];
    this.deliver(data, endStream);
  }
}

/**
 * Group commit: commands that arrive while batches are being written wait and go
 * together into the next transaction, so a busy runtime pays one commit (and on
 * PostgreSQL a handful of round trips) for many commands. `inFlight` batches may run
 * at once: one on SQLite (a single writer), a few on PostgreSQL (one per connection).
 */
export class Batcher<In, Out> {
  private queue: { input: In; resolve: (out: Out) => void; reject: (error: unknown) => void }[] =
    [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly flush: (inputs: In[]) => Promise<Out[]>,
    private readonly inFlight = 1,
    private readonly maxBatch = 256,
  ) {}

  submit(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.scheduled && this.running < this.inFlight) {
        this.scheduled = true;
        // Let the commands already started in this turn of the event loop join the batch.
        setImmediate(() => {
          this.scheduled = false;
          this.launch();
        });
      }
    });
  }

  private launch(): void {
    while (this.queue.length && this.running < this.inFlight) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.running++;
      this.flush(batch.map((b) => b.input))
        .then(
          (outs) => batch.forEach((b, i) => b.resolve(outs[i]!)),
          (error: unknown) => batch.forEach((b) => b.reject(error)),
        )
        .finally(() => {
          this.running--;
          this.launch();
        });
    }
  }
}

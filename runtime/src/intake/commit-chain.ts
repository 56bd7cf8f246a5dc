/**
 * The commit stage of a folder sync: commits run one at a time, in the order their batches
 * were fetched, while later batches are fetched and parsed.
 */

/**
 * Runs commits one after another in the order they were added and bounds how many wait. The
 * first failure stops the chain: later commits are skipped and every waiter sees the error.
 */
export class CommitChain {
  private tail: Promise<void> = Promise.resolve();
  private held = 0;
  private failure: { error: unknown } | null = null;
  private roomMade: (() => void) | null = null;

  constructor(private readonly limit: number) {}

  /**
   * Resolves once fewer than `limit` batches are held, counting the one about to be fetched;
   * throws the error of a failed commit, so nothing more is fetched after it.
   */
  async room(): Promise<void> {
    while (!this.failure && this.held >= this.limit)
      await new Promise<void>((resolve) => (this.roomMade = resolve));
    if (this.failure) throw this.failure.error;
  }

  add(run: () => Promise<void>): void {
    this.held += 1;
    this.tail = settled(
      this.tail.then(run).then(
        () => this.release(),
        (error: unknown) => {
          this.failure ??= { error };
          this.release();
          throw error;
        },
      ),
    );
  }

  drained(): Promise<void> {
    return this.tail;
  }

  private release(): void {
    this.held -= 1;
    this.roomMade?.();
    this.roomMade = null;
  }
}

/** A step started ahead: its failure is reported where it is awaited, not as an unhandled rejection. */
export function settled<T>(pending: Promise<T>): Promise<T> {
  pending.catch(() => undefined);
  return pending;
}

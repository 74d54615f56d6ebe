// A task asked for often (on every notification, every freed slot) that runs one at a time: asked
// while it runs, it runs once more afterwards, however often it was asked meanwhile.
export class CoalescedRun {
  #running: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  request(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.task()
      .catch(this.onError)
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.request();
        }
      });
  }

  /** Resolves once no run is in progress (one asked for meanwhile may follow). */
  async settled(): Promise<void> {
    await this.#running;
  }
}

// Answers about files (where a program is, what kind of file it is) remembered for a moment: a
// burst of short jobs asks the same few questions at every submission and start, and each answer
// costs system calls. An answer older than `freshMs` is asked again; at most `max` are kept.
export class RecentAnswers<T> {
  readonly #answers = new Map<string, { value: T; atMs: number }>();

  constructor(
    private readonly freshMs: number,
    private readonly max: number,
  ) {}

  /** The answer given under `freshMs` ago, if any. */
  get(key: string, nowMs: number): T | undefined {
    const known = this.#answers.get(key);
    return known !== undefined && nowMs - known.atMs < this.freshMs ? known.value : undefined;
  }

  set(key: string, value: T, nowMs: number): void {
    if (this.#answers.size >= this.max) this.#answers.clear();
    this.#answers.set(key, { value, atMs: nowMs });
  }

  delete(key: string): void {
    this.#answers.delete(key);
  }
}

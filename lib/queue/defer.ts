/**
 * Thrown by a handler whose job cannot go on yet: the runner puts the job back in the queue, uncounted,
 * due in `delayMs` (release.ts), instead of holding a worker slot while it waits.
 */
export class JobDeferred extends Error {
  override readonly name = 'JobDeferred';

  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

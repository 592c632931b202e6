/**
 * The orchestrator's only way out: stamps every event with `time` and `runId` and hands them to the
 * sink ONE AT A TIME, in the order they were produced, awaiting each (a database sink writes before
 * it publishes, so events must not overtake each other even when stages run concurrently).
 *
 * Hot path (a stage printing a million lines): when no delivery is in flight, the sink is called at once,
 * and a sink that returns nothing (it buffered the line) costs no promise chain; only a delivery that
 * returns a promise makes later events wait behind it.
 */
import type { EventSink, RunEvent } from '../../events/types';

type WithoutEnvelope<E> = E extends RunEvent ? Omit<E, 'time' | 'runId'> : never;
export type EventBody = WithoutEnvelope<RunEvent>;

const DELIVERED: Promise<void> = Promise.resolve();

export class EventStream {
  /** Settles when the last delivery in flight has (never rejects). */
  private tail: Promise<void> = DELIVERED;
  private inFlight = 0;
  /** `time` of the last event, reused while the clock reads the same millisecond. */
  private lastMs = Number.NaN;
  private lastIso = '';

  constructor(
    private readonly sink: EventSink,
    private readonly runId: string,
    private readonly now: () => number,
  ) {}

  emit(body: EventBody): Promise<void> {
    const event = { ...body, time: this.isoNow(), runId: this.runId } as RunEvent;
    if (this.inFlight === 0) {
      let result: void | Promise<void>;
      try {
        result = this.sink.emit(event);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      return result ? this.track(result) : DELIVERED;
    }
    return this.track(this.tail.then(() => this.sink.emit(event)));
  }

  /** Later events wait for `delivery`; a failed one is reported to its caller but blocks nothing. */
  private track(delivery: Promise<void>): Promise<void> {
    this.inFlight++;
    const settled = () => {
      this.inFlight--;
    };
    this.tail = delivery.then(settled, settled);
    return delivery;
  }

  private isoNow(): string {
    const ms = this.now();
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }
}

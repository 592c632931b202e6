/**
 * The orchestrator's only way out: stamps every event with `time` and `runId` and hands them to the
 * sink ONE AT A TIME, in the order they were produced, awaiting each (a database sink writes before
 * it publishes, so events must not overtake each other even when stages run concurrently).
 */
import type { EventSink, RunEvent } from '../../lib/events/types';

type WithoutEnvelope<E> = E extends RunEvent ? Omit<E, 'time' | 'runId'> : never;
export type EventBody = WithoutEnvelope<RunEvent>;

export class EventStream {
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: EventSink,
    private readonly runId: string,
    private readonly now: () => number,
  ) {}

  emit(body: EventBody): Promise<void> {
    const event = { ...body, time: new Date(this.now()).toISOString(), runId: this.runId } as RunEvent;
    const delivered = this.tail.then(() => this.sink.emit(event));
    // A failed delivery is reported to its caller, but must not block every later event.
    this.tail = delivered.then(
      () => undefined,
      () => undefined,
    );
    return delivered;
  }
}

// The event stream's contract: events reach the sink one at a time in emit order, whether the sink answers
// at once (returns nothing), later (a promise), or fails; a failure is reported to its emitter only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent } from '../../events/types';
import { EventStream } from './events';

const log = (seq: number) => ({ type: 'stage.log' as const, stage: 's', stream: 'stdout' as const, line: `line ${seq}`, seq });

test('mixed sync and async deliveries keep emit order; a sink never sees two deliveries at once', async () => {
  const seen: number[] = [];
  let busy = false;
  const sink = {
    emit(event: RunEvent): void | Promise<void> {
      assert.equal(busy, false, 'a delivery started while another was in flight');
      if (event.type !== 'stage.log') return;
      seen.push(event.seq);
      if (event.seq % 3 !== 0) return; // buffered: answers at once
      busy = true;
      return new Promise<void>((resolve) =>
        setTimeout(
          () => {
            busy = false;
            resolve();
          },
          event.seq % 2 === 0 ? 1 : 5,
        ),
      );
    },
  };
  const events = new EventStream(sink, 'run-1', () => 1_767_225_600_000);
  const deliveries = Array.from({ length: 30 }, (_, i) => events.emit(log(i + 1)));
  await Promise.all(deliveries);
  assert.deepEqual(
    seen,
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
});

test('every event is stamped with the run id and the time; a failed delivery rejects only its own emit', async () => {
  const received: RunEvent[] = [];
  let clock = 1_767_225_600_000;
  const sink = {
    emit(event: RunEvent): void | Promise<void> {
      if (event.type === 'stage.log' && event.seq === 2) return Promise.reject(new Error('disk full'));
      if (event.type === 'stage.log' && event.seq === 3) throw new Error('refused at once');
      received.push(event);
    },
  };
  const events = new EventStream(sink, 'run-2', () => clock);
  const first = events.emit(log(1));
  const second = events.emit(log(2));
  clock += 1;
  const third = events.emit(log(3)); // queued behind the failing second: still delivered, in order
  const fourth = events.emit(log(4));
  await first;
  await assert.rejects(second, /disk full/);
  await assert.rejects(third, /refused at once/);
  await fourth;
  assert.deepEqual(
    received.map((e) => [e.type === 'stage.log' ? e.seq : -1, e.runId, e.time]),
    [
      [1, 'run-2', '2026-01-01T00:00:00.000Z'],
      [4, 'run-2', '2026-01-01T00:00:00.001Z'],
    ],
  );
  // Nothing in flight any more: a sync throw now rejects the emit too (it is not thrown at the caller).
  await assert.rejects(events.emit(log(3)), /refused at once/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent } from '../../lib/events/types';
import { colorEnabled, createPalette, stageColour } from './color';
import { HumanPrinter, humanDuration, NdjsonSink, type Output } from './sinks';

class MemoryOutput implements Output {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  once(): this {
    return this;
  }
}

const base = { time: '2026-01-01T00:00:00.000Z', runId: 'r1' };
const events: RunEvent[] = [
  {
    ...base,
    type: 'run.started',
    pipeline: 'app',
    stages: [
      { id: 'build', name: 'build', needs: [] },
      { id: 'test[node=18]', name: 'test', needs: ['build'] },
    ],
  },
  { ...base, type: 'stage.queued', stage: 'build' },
  { ...base, type: 'stage.started', stage: 'build', attempt: 1, executor: 'local' },
  { ...base, type: 'stage.log', stage: 'build', stream: 'stdout', line: 'compiling', seq: 1 },
  { ...base, type: 'stage.log', stage: 'build', stream: 'system', line: 'attempt 1 of 2 failed (exit code 1); retrying', seq: 2 },
  { ...base, type: 'stage.started', stage: 'build', attempt: 2, executor: 'local' },
  { ...base, type: 'stage.finished', stage: 'build', status: 'succeeded', exitCode: 0, attempt: 2, durationMs: 1234 },
  { ...base, type: 'stage.finished', stage: 'test[node=18]', status: 'skipped', exitCode: null, attempt: 0, durationMs: 0, reason: 'approval denied' },
  { ...base, type: 'run.finished', status: 'succeeded', durationMs: 1300 },
];

test('the human printer prefixes lines with the stage id, reports starts, ends and a summary table', () => {
  const out = new MemoryOutput();
  const printer = new HumanPrinter(out, createPalette(false));
  for (const event of events) printer.emit(event);
  assert.equal(
    out.text,
    [
      '▶ app: 2 stages (run r1)',
      '[build]         ▶ started on local',
      '[build]         compiling',
      '[build]         » attempt 1 of 2 failed (exit code 1); retrying',
      '[build]         ▶ started on local, attempt 2',
      '[build]         ✔ succeeded in 1.23s',
      '[test[node=18]] ○ skipped: approval denied',
      '',
      'STAGE          STATUS     ATTEMPTS  DURATION  REASON',
      'build          succeeded  2         1.23s',
      'test[node=18]  skipped    0         -         approval denied',
      'run succeeded in 1.30s',
      '',
    ].join('\n'),
  );
});

test('with colour, each stage keeps one stable colour', () => {
  const out = new MemoryOutput();
  const printer = new HumanPrinter(out, createPalette(true));
  for (const event of events.slice(0, 4)) printer.emit(event);
  assert.ok(out.text.includes(`\u001b[${stageColour('build')}m[build]`));
  assert.equal(stageColour('build'), stageColour('build'));
});

test('NDJSON: one JSON event per line, nothing else', () => {
  const out = new MemoryOutput();
  const sink = new NdjsonSink(out);
  for (const event of events) sink.emit(event);
  assert.deepEqual(
    out.text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line)),
    events,
  );
});

test('colour is off for non-TTYs, NO_COLOR and TERM=dumb; FORCE_COLOR forces it', () => {
  assert.equal(colorEnabled({ isTTY: true }, {}), true);
  assert.equal(colorEnabled({ isTTY: false }, {}), false);
  assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' }), false);
});

test('humanDuration rounds for people', () => {
  assert.deepEqual(
    [humanDuration(450), humanDuration(1234), humanDuration(12_345), humanDuration(123_000), humanDuration(3_723_000)],
    ['450ms', '1.23s', '12.3s', '2m03s', '1h02m03s'],
  );
});

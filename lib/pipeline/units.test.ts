/** Small pieces: durations, crons, templates, edit distance, diagnostic format/order, graph. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cronError } from './cron';
import { closest, DiagnosticCollector, editDistance, formatDiagnostic } from './diagnostics';
import { parseDuration } from './duration';
import { findCycles, topologicalLevels } from './graph';
import { parseTemplate, renderTemplate } from './interpolate';
import { loadPipeline } from './index';

test('durations: units add up; bad ones say why', () => {
  assert.deepEqual(parseDuration('1h30m'), { ms: 5_400_000 });
  assert.deepEqual(parseDuration('500ms'), { ms: 500 });
  assert.deepEqual(parseDuration('2d'), { ms: 172_800_000 });
  assert.deepEqual(parseDuration('10'), { error: 'invalid duration "10"' });
  assert.deepEqual(parseDuration('1 h'), { error: 'invalid duration "1 h"' });
  assert.deepEqual(parseDuration('0m'), { error: 'duration "0m" must be longer than zero' });
  assert.deepEqual(parseDuration('400d'), { error: 'duration "400d" is longer than 366 days' });
});

test('crons: five fields or a macro, ranges checked', () => {
  assert.equal(cronError('0 3 * * *'), null);
  assert.equal(cronError('@hourly'), null);
  assert.match(cronError('0 3 * *')!, /expected 5 fields .* got 4$/);
  assert.match(cronError('*/5 * * * * *')!, /got 6$/);
  assert.match(cronError('0 25 * * *')!, /expected range 0-23/);
  assert.match(cronError('')!, /got 0$/);
});

test('templates: references, $${ escapes, and errors with their occurrence', () => {
  const template = parseTemplate('a ${git.sha} $${x} ${ env.HOME }');
  assert.deepEqual(template.errors, []);
  assert.equal(
    renderTemplate(template, (ref) => `<${ref.namespace}|${ref.key}>`),
    'a <git|sha> ${x} <env|HOME>',
  );
  assert.deepEqual(parseTemplate('${} ${git.sha').errors, [
    { occurrence: 0, message: 'empty reference `${}`' },
    { occurrence: 1, message: 'unterminated `${`: add a closing `}` (write `$${` for a literal `${`)' },
  ]);
  assert.deepEqual(parseTemplate('no refs, $ and $$ alone').parts, [{ text: 'no refs, $ and $$ alone' }]);
});

test('errors inside multi-line strings point at the reference line and column', () => {
  const text = 'pipeline "p"\nstage "a" {\n    image "alpine"\n    run """\n        echo ok\n        echo ${git.nope}\n        """\n}\n';
  const { diagnostics } = loadPipeline(text, 'm.kdl');
  assert.deepEqual(
    diagnostics.map((d) => `${d.line}:${d.column}`),
    ['6:14'],
  );
});

test('edit distance counts a swap of neighbours as one edit', () => {
  assert.equal(editDistance('nmp', 'npm'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closest('need', ['needs', 'image']), 'needs');
  assert.equal(closest('zzz', ['needs', 'image']), undefined);
});

test('diagnostics are sorted by position and deduped; the format is FILE:LINE:COL', () => {
  const collector = new DiagnosticCollector('f.kdl');
  collector.error({ line: 3, column: 1 }, 'r', 'third');
  collector.warning({ line: 1, column: 5 }, 'r', 'second', 'a hint');
  collector.error({ line: 1, column: 2 }, 'r', 'first');
  collector.error({ line: 3, column: 1 }, 'r', 'third');
  const result = collector.result();
  assert.deepEqual(result.map(formatDiagnostic), ['f.kdl:1:2: error: first', 'f.kdl:1:5: warning: second\n  hint: a hint', 'f.kdl:3:1: error: third']);
  assert.equal(result[1]!.rule, 'r');
});

test('graph: levels, and cycles rotated to start at their first node', () => {
  assert.deepEqual(topologicalLevels([[], [0], [0, 1], [2]]), [0, 1, 2, 3]);
  assert.deepEqual(topologicalLevels([[1], [0], []]), [null, null, 0]);
  assert.deepEqual(findCycles([[2], [0], [1], [0]]), [[0, 2, 1]]);
  assert.deepEqual(findCycles([[0]]), [[0]]);
  assert.deepEqual(findCycles([[], [0]]), []);
});

test('loadPipeline returns warnings with a spec, and no spec with errors', () => {
  const warned = loadPipeline('pipeline "w"\nvariable "v" default="1"\nstage "a" { image "x"; run "y"; }\n', 'w.kdl');
  assert.ok(warned.spec);
  assert.deepEqual(
    warned.diagnostics.map((d) => [d.severity, d.rule]),
    [['warning', 'unused']],
  );
  const failed = loadPipeline('pipeline "e"\nstage "a" { run "y"; }\n', 'e.kdl');
  assert.equal(failed.spec, null);
  assert.deepEqual(
    failed.diagnostics.map((d) => d.rule),
    ['image'],
  );
});

/** Every example is a valid pipeline and has a reviewed plan golden (Drone's source ↔ golden pairs). */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { formatDiagnostic, loadPipeline, plan, type TriggerContext } from './index';
import { EXAMPLES_DIR, golden, kdlFiles, pushTrigger, readText, TESTDATA_DIR } from '../../tests/support/pipeline-fixtures';

/** The trigger each golden is planned for; push to main unless the example only runs otherwise. */
const TRIGGERS: Record<string, TriggerContext> = {
  local: pushTrigger({ event: 'manual', variables: { target: 'lint' } }),
  release: pushTrigger({ variables: { replicas: '3' } }),
};

const examples = kdlFiles(EXAMPLES_DIR);

test('there are examples to check', () => {
  assert.ok(examples.length >= 5, `expected at least 5 examples, found ${examples.length}`);
});

for (const file of examples) {
  const name = path.basename(file, '.kdl');

  test(`example ${name} validates with no diagnostics but the not-supported-yet warnings`, () => {
    const { spec, diagnostics } = loadPipeline(readText(file), `examples/${name}.kdl`);
    assert.deepEqual(diagnostics.filter((d) => d.rule !== 'unsupported').map(formatDiagnostic), []);
    for (const d of diagnostics) assert.equal(d.severity, 'warning');
    assert.notEqual(spec, null);
  });

  test(`example ${name} plan matches its golden and is deterministic`, () => {
    const trigger = TRIGGERS[name] ?? pushTrigger();
    const first = JSON.stringify(plan(loadPipeline(readText(file), name).spec!, trigger), null, 2) + '\n';
    const second = JSON.stringify(plan(loadPipeline(readText(file), name).spec!, trigger), null, 2) + '\n';
    assert.equal(first, second);
    assert.equal(first, golden(path.join(TESTDATA_DIR, 'plans', `${name}.plan.json`), first));
  });
}

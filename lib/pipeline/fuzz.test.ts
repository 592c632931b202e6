/**
 * Fuzzing: random bytes and random mutations of the examples must give diagnostics, never an
 * exception or a hang. Seeded, so a failure reproduces; each case prints its seed on failure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPipeline, plan, PlanError } from './index';
import { EXAMPLES_DIR, kdlFiles, prng, pushTrigger, readText } from '../../tests/support/pipeline-fixtures';

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
/** Keeps the whole fuzz run to a few seconds on a shared machine. */
const BUDGET_MS = 4_000;
const PIECES = [
  '{',
  '}',
  '"',
  ';',
  '\n',
  '${',
  '}',
  '$${',
  '=',
  '#true',
  'null',
  'r"',
  '"""',
  '/-',
  '//',
  '/*',
  '*/',
  '\\',
  'stage',
  'needs',
  'run',
  'matrix',
  '(t)',
  '0x',
  '-',
  ' ',
  '\u0000',
  '\uFEFF',
  'é',
  '\r\n',
];

/** Returns whether the text was a valid pipeline. */
function assertNeverThrows(text: string, label: string): boolean {
  let result;
  try {
    result = loadPipeline(text, 'fuzz.kdl');
  } catch (error) {
    assert.fail(`${label}: loadPipeline threw ${String(error)}\ninput: ${JSON.stringify(text)}`);
  }
  for (const d of result.diagnostics) {
    // loadPipeline turns an exception of ours into an `internal` diagnostic; the fuzzer must still see it.
    assert.notEqual(d.rule, 'internal', `${label}: ${d.message}\ninput: ${JSON.stringify(text)}`);
    assert.ok(d.line >= 1 && d.column >= 1, `${label}: position ${d.line}:${d.column} is not 1-based`);
    assert.ok(d.message.length > 0, `${label}: empty message`);
  }
  assert.equal(
    result.spec === null,
    result.diagnostics.some((d) => d.severity === 'error'),
    `${label}: spec must be null exactly when there are errors`,
  );
  if (result.spec === null) return false;
  try {
    plan(result.spec, pushTrigger());
  } catch (error) {
    if (!(error instanceof PlanError)) assert.fail(`${label}: plan threw ${String(error)}\ninput: ${JSON.stringify(text)}`);
  }
  return true;
}

function randomBytes(random: () => number): string {
  const length = Math.floor(random() * 200);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = random() < 0.7 ? 32 + Math.floor(random() * 95) : Math.floor(random() * 256);
  return new TextDecoder().decode(bytes);
}

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const choice = random();
    if (choice < 0.35) out = out.slice(0, at) + out.slice(at + 1 + Math.floor(random() * 8));
    else if (choice < 0.75) out = out.slice(0, at) + PIECES[Math.floor(random() * PIECES.length)] + out.slice(at);
    else if (choice < 0.9) {
      const from = Math.floor(random() * out.length);
      out = out.slice(0, at) + out.slice(from, from + Math.floor(random() * 40)) + out.slice(at);
    } else out = out.slice(0, at) + String.fromCharCode(Math.floor(random() * 0x3000)) + out.slice(at);
  }
  return out;
}

test('random bytes never make loadPipeline throw', () => {
  const random = prng(SEED);
  const deadline = Date.now() + BUDGET_MS / 4;
  let cases = 0;
  for (; cases < 3000 && Date.now() < deadline; cases++) assertNeverThrows(randomBytes(random), `bytes case ${cases} (seed ${SEED})`);
  // Lower bounds far below a quiet machine's numbers, so a loaded CI host does not make this flaky.
  assert.ok(cases >= 300, `only ${cases} cases ran in the time budget`);
  console.log(`# ${cases} random inputs`);
});

test('mutated examples never make loadPipeline or plan throw', () => {
  const random = prng(SEED + 1);
  const examples = kdlFiles(EXAMPLES_DIR).map(readText);
  const deadline = Date.now() + (BUDGET_MS * 3) / 4;
  let cases = 0;
  let stillValid = 0;
  for (; cases < 4000 && Date.now() < deadline; cases++) {
    const text = mutate(examples[cases % examples.length]!, random);
    if (assertNeverThrows(text, `mutation case ${cases} (seed ${SEED + 1})`)) stillValid++;
  }
  assert.ok(cases >= 300, `only ${cases} cases ran in the time budget`);
  // Mutations must exercise both paths: broken files and files that still plan.
  assert.ok(stillValid > 0 && stillValid < cases, `valid mutations: ${stillValid} of ${cases}`);
  console.log(`# ${cases} mutations, ${stillValid} still valid`);
});

// A catastrophic blow-up (exponential backtracking, deep recursion) would hang here until the runner's
// timeout; the times are printed, not asserted (a loaded machine must not fail the suite).
test('pathological inputs finish', () => {
  const inputs = [
    '{'.repeat(5000),
    `stage "a" {${'\n'.repeat(20000)}`,
    `pipeline "x"\nstage "a" { image "a"; run "${'${'.repeat(5000)}"; }`,
    'a'.repeat(100_000),
    `pipeline "p"\n${Array.from({ length: 3000 }, (_, i) => `stage "s${i}" needs="s${i + 1}" { image "a"; run "x"; }`).join('\n')}\nstage "s3000" needs="s0" { image "a"; run "x"; }`,
  ];
  for (const [i, input] of inputs.entries()) {
    const start = Date.now();
    assertNeverThrows(input, `pathological input ${i}`);
    console.log(`# pathological input ${i}: ${Date.now() - start} ms`);
  }
});

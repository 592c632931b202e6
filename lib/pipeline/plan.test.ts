/** plan(): trigger filters, variables, matrices, `when`, interpolation, levels, determinism. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic, loadPipeline, plan, PlanError, type PipelineSpec, type PlannedStage } from './index';
import { pushTrigger, SHA } from '../../tests/support/pipeline-fixtures';

/** A stage's commands as the shell sees them: each `${NAME}` replaced by the stage's env value. */
function asShellSees(stage: PlannedStage): string[] {
  return stage.commands.map((command) => command.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => stage.env[name] ?? ''));
}

function load(text: string): PipelineSpec {
  const { spec, diagnostics } = loadPipeline(text, 'p.kdl');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic), []);
  return spec!;
}

const FILTERED = load(`pipeline "f" {
    on "push" branches="main" "release/*"
    on "pull_request"
    on "manual"
}
stage "a" { image "alpine"; run "true"; }
`);

test('a push to a branch outside the filter is not triggered, with the reason', () => {
  const result = plan(FILTERED, pushTrigger({ branch: 'feature/x' }));
  assert.equal(result.triggered, false);
  assert.equal(result.notTriggeredReason, 'branch "feature/x" does not match the `on "push"` branch filter "main", "release/*"');
  assert.deepEqual(result.stages, []);
  assert.deepEqual(result.levels, []);
});

test('branch globs match one path segment, like the rest of the product', () => {
  assert.equal(plan(FILTERED, pushTrigger({ branch: 'release/1.2' })).triggered, true);
  assert.equal(plan(FILTERED, pushTrigger({ branch: 'release/1/2' })).triggered, false);
  assert.equal(plan(FILTERED, pushTrigger({ branch: 'main' })).triggered, true);
});

test('an event without an `on` is not triggered; manual always matches when declared', () => {
  const schedule = plan(FILTERED, pushTrigger({ event: 'schedule' }));
  assert.equal(schedule.triggered, false);
  assert.equal(schedule.notTriggeredReason, 'the pipeline has no `on "schedule"` trigger (it runs on "push", "pull_request", "manual")');
  assert.equal(plan(FILTERED, pushTrigger({ event: 'manual', branch: 'anything/at/all' })).triggered, true);
  assert.equal(plan(FILTERED, pushTrigger({ event: 'pull_request', branch: 'feature/x' })).triggered, true);
});

test('a tag push without a branch does not match a branch filter', () => {
  const result = plan(FILTERED, pushTrigger({ branch: undefined, tag: 'v1.0.0' }));
  assert.equal(result.triggered, false);
  assert.match(result.notTriggeredReason!, /without a branch/);
});

test('a pipeline with no `on` accepts every event', () => {
  const spec = load('pipeline "any"\nstage "a" { image "alpine"; run "true"; }\n');
  for (const event of ['push', 'pull_request', 'schedule', 'manual'] as const) {
    assert.equal(plan(spec, pushTrigger({ event, branch: 'whatever' })).triggered, true, event);
  }
});

const VARIABLES = load(`pipeline "v"
variable "region" default="eu-west-1"
variable "target"
stage "a" { image "alpine"; run "deploy \${var.region} \${var.target}"; }
`);

test('trigger variables override defaults', () => {
  const result = plan(VARIABLES, pushTrigger({ variables: { target: 'web', region: 'us-east-1' } }));
  assert.deepEqual(asShellSees(result.stages[0]!), ['deploy us-east-1 web']);
  const defaulted = plan(VARIABLES, pushTrigger({ variables: { target: 'web' } }));
  assert.deepEqual(asShellSees(defaulted.stages[0]!), ['deploy eu-west-1 web']);
});

test('a missing required variable or an unknown one is a PlanError', () => {
  assert.throws(
    () => plan(VARIABLES, pushTrigger()),
    (error: unknown) => {
      assert.ok(error instanceof PlanError);
      assert.match(error.message, /^variable "target" is required \(it has no default\)/);
      return true;
    },
  );
  assert.throws(() => plan(VARIABLES, pushTrigger({ variables: { target: 'x', regoin: 'y' } })), {
    name: 'PlanError',
    message: 'unknown variable "regoin" (declared: region, target); did you mean "region"?',
  });
});

const MATRIX = load(`pipeline "m"
stage "build" { image "alpine"; run "make"; }
stage "test" needs="build" {
    image "node:\${matrix.node}"
    run "test on \${matrix.os} node \${matrix.node} for \${stage.name}"
    matrix { os "linux" "mac"; node "18" "20"; }
}
stage "report" needs="test" { image "alpine"; run "report"; }
`);

test('a matrix expands in declaration order, first key outermost', () => {
  const result = plan(MATRIX, pushTrigger());
  const tests = result.stages.filter((s) => s.name === 'test');
  assert.deepEqual(
    tests.map((s) => s.id),
    ['test[os=linux,node=18]', 'test[os=linux,node=20]', 'test[os=mac,node=18]', 'test[os=mac,node=20]'],
  );
  assert.deepEqual(tests[3]!.matrix, { os: 'mac', node: '20' });
  assert.equal(tests[3]!.image, 'node:20');
  assert.deepEqual(asShellSees(tests[3]!), ['test on mac node 20 for test']);
  assert.ok(tests.every((s) => s.level === 1 && s.needs.join() === 'build'));
});

test('a stage needing a matrix stage waits for every combination', () => {
  const result = plan(MATRIX, pushTrigger());
  const report = result.stages.find((s) => s.id === 'report')!;
  assert.deepEqual(report.needs, ['test[os=linux,node=18]', 'test[os=linux,node=20]', 'test[os=mac,node=18]', 'test[os=mac,node=20]']);
  assert.equal(report.level, 2);
  assert.deepEqual(result.levels, [['build'], report.needs, ['report']]);
});

test('levels are 1 + the highest level of the needs; stages sort by level then declaration', () => {
  const spec = load(`pipeline "l"
stage "deep" needs="mid" { image "a"; run "x"; }
stage "mid" needs="root" { image "a"; run "x"; }
stage "root" { image "a"; run "x"; }
stage "wide" { image "a"; run "x"; needs "root" "deep"; }
`);
  const result = plan(spec, pushTrigger());
  assert.deepEqual(
    result.stages.map((s) => `${s.id}@${s.level}`),
    ['root@0', 'mid@1', 'deep@2', 'wide@3'],
  );
  assert.deepEqual(result.levels, [['root'], ['mid'], ['deep'], ['wide']]);
});

const WHEN = load(`pipeline "w"
stage "always" { image "a"; run "x"; }
stage "main-only" needs="always" { image "a"; run "x"; when branch="main"; }
stage "release" { image "a"; run "x"; when branch="release/*" event="push"; }
stage "manual" { image "a"; run "x"; when event="manual"; }
`);

test('`when` marks skipped stages with a reason and keeps them in the plan', () => {
  const result = plan(WHEN, pushTrigger({ branch: 'feature/x' }));
  const skips = Object.fromEntries(result.stages.map((s) => [s.id, s.skip?.reason ?? null]));
  assert.deepEqual(skips, {
    always: null,
    release: 'when branch="release/*" does not match branch "feature/x"',
    manual: 'when event="manual" does not match event "push"',
    'main-only': 'when branch="main" does not match branch "feature/x"',
  });
  const onMain = plan(WHEN, pushTrigger({ event: 'manual', branch: 'release/2' }));
  assert.equal(onMain.stages.find((s) => s.id === 'release')!.skip!.reason, 'when event="push" does not match event "manual"');
  assert.equal(onMain.stages.find((s) => s.id === 'manual')!.skip, null);
});

const INTERPOLATION = load(`pipeline "i"
env {
    BASE "/srv/\${pipeline.name}"
    SHARED "pipeline"
    AUTH "token \${secrets.API_TOKEN}!"
}
stage "s" {
    image "registry/app:\${git.short_sha}"
    run "echo \${git.sha} \${git.branch} \${git.tag} \${git.message} \${git.author} \${run.id} \${run.number} $\${git.sha} \${env.LOG}"
    env { SHARED "stage"; LOG "\${env.BASE}/log"; }
    secret "NPM_TOKEN"
}
`);

test('interpolation substitutes values as text, but never into a run script: there each reference is an environment variable', () => {
  const stage = plan(INTERPOLATION, pushTrigger({ tag: 'v1' })).stages[0]!;
  assert.equal(stage.image, `registry/app:${SHA.slice(0, 7)}`);
  assert.deepEqual(stage.commands, [
    'echo ${BUILDIT_GIT_SHA} ${BUILDIT_GIT_BRANCH} ${BUILDIT_GIT_TAG} ${BUILDIT_GIT_MESSAGE} ${BUILDIT_GIT_AUTHOR} ${BUILDIT_RUN_ID} ${BUILDIT_RUN_NUMBER} ${git.sha} ${LOG}',
  ]);
  assert.deepEqual(asShellSees(stage), [`echo ${SHA} main v1 Fix the flaky test Ada Lovelace run-0001 42 \${git.sha} /srv/i/log`]);
});

test('a hostile trigger value stays data: the script text is the same whatever the values', () => {
  const hostile = `x"; id; echo "pwned' $(id) \`id\` \${HOME} \n;`;
  const stage = plan(INTERPOLATION, pushTrigger({ branch: hostile, message: hostile, author: hostile, tag: hostile })).stages[0]!;
  assert.deepEqual(stage.commands, plan(INTERPOLATION, pushTrigger()).stages[0]!.commands);
  assert.equal(stage.env.BUILDIT_GIT_BRANCH, hostile);
  assert.equal(stage.env.BUILDIT_GIT_MESSAGE, hostile);
});

test('stage env overrides pipeline env; secret references become templates, never values', () => {
  const stage = plan(INTERPOLATION, pushTrigger()).stages[0]!;
  const { BASE, SHARED, LOG } = stage.env;
  assert.deepEqual({ BASE, SHARED, LOG }, { BASE: '/srv/i', SHARED: 'stage', LOG: '/srv/i/log' });
  assert.deepEqual(stage.secretEnv, { AUTH: [{ text: 'token ' }, { secret: 'API_TOKEN' }, { text: '!' }] });
  assert.deepEqual(stage.secrets, ['API_TOKEN', 'NPM_TOKEN']);
});

test('a variable cannot lead a path out of the workspace: `..` after interpolation is a PlanError', () => {
  const spec = load(`pipeline "p"
variable "dir" default="dist"
cache "c" key="k" path="/cache/\${var.dir}"
stage "s" { image "a"; run "x"; artifacts "out/\${var.dir}/**"; cache "c"; }
`);
  assert.deepEqual(plan(spec, pushTrigger()).stages[0]!.artifacts, ['out/dist/**']);
  assert.throws(() => plan(spec, pushTrigger({ variables: { dir: '../../etc' } })), {
    name: 'PlanError',
    message: 'artifact path of stage "s" "out/../../etc/**" must not contain \'..\' (after interpolation)',
  });
});

test('a stored pipeline over the run-size cap is refused by plan() too, before any stage is expanded', () => {
  const spec = load('pipeline "big"\nstage "a" { image "a"; run "x"; }\n');
  const huge = {
    ...spec,
    stages: Array.from({ length: 5 }, (_, i) => ({
      ...spec.stages[0]!,
      name: `s${i}`,
      matrix: [{ key: 'k', values: Array.from({ length: 256 }, (_, v) => String(v)), span: spec.span }],
    })),
  };
  assert.throws(() => plan(huge, pushTrigger()), { name: 'PlanError', message: 'the pipeline plans 1280 stages; at most 1000 are allowed per run' });
});

test('missing trigger fields interpolate as empty text', () => {
  const stage = plan(INTERPOLATION, { event: 'manual', runId: 'r', runNumber: 1 }).stages[0]!;
  assert.equal(stage.image, 'registry/app:');
});

test('the same input gives byte-identical JSON', () => {
  const text = JSON.stringify(plan(MATRIX, pushTrigger()));
  for (let i = 0; i < 3; i++) assert.equal(JSON.stringify(plan(load(MATRIX_SOURCE()), pushTrigger())), text);
});

function MATRIX_SOURCE(): string {
  return `pipeline "m"
stage "build" { image "alpine"; run "make"; }
stage "test" needs="build" {
    image "node:\${matrix.node}"
    run "test on \${matrix.os} node \${matrix.node} for \${stage.name}"
    matrix { os "linux" "mac"; node "18" "20"; }
}
stage "report" needs="test" { image "alpine"; run "report"; }
`;
}

test('stage kinds carry their own fields', () => {
  const spec = load(`pipeline "k"
stage "img" { build tag="app:\${run.number}"; }
stage "ship" needs="img" { deploy environment="prod" service="web"; }
stage "net" { stack "network" action="apply"; }
`);
  const [img, net, ship] = plan(spec, pushTrigger()).stages;
  assert.deepEqual(img!.build, { context: '.', dockerfile: 'Dockerfile', tag: 'app:42' });
  assert.equal(img!.kind, 'build');
  assert.deepEqual(net!.stack, { name: 'network', action: 'apply' });
  assert.deepEqual(ship!.deploy, { environment: 'prod', service: 'web' });
  assert.equal(ship!.image, null);
});

test('an unknown trigger event is a PlanError, not a crash', () => {
  assert.throws(() => plan(MATRIX, pushTrigger({ event: 'tag' as never })), PlanError);
});

test('a default image fills container stages that name none, not local ones', () => {
  const { spec } = loadPipeline('pipeline "d"\nstage "a" { run "x"; }\nstage "b" { executor "local"; run "y"; }\n', 'd.kdl', { defaultImage: 'debian:12' });
  assert.ok(spec);
  const [a, b] = plan(spec, pushTrigger()).stages;
  assert.equal(a!.image, 'debian:12');
  assert.equal(b!.image, null);
});

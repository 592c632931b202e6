/** plan(): trigger filters, variables, matrices, `when`, interpolation, levels, determinism. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic, loadPipeline, plan, PlanError, type PipelineSpec, type PlannedStage, type TriggerContext } from './index';
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
  for (const event of ['push', 'tag', 'pull_request', 'schedule', 'manual'] as const) {
    assert.equal(plan(spec, pushTrigger({ event, branch: 'whatever', tag: 'v1' })).triggered, true, event);
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
  assert.throws(() => plan(MATRIX, pushTrigger({ event: 'tags' as never })), PlanError);
});

test('a default image fills container stages that name none, not local ones', () => {
  const { spec } = loadPipeline('pipeline "d"\nstage "a" { run "x"; }\nstage "b" { executor "local"; run "y"; }\n', 'd.kdl', { defaultImage: 'debian:12' });
  assert.ok(spec);
  const [a, b] = plan(spec, pushTrigger()).stages;
  assert.equal(a!.image, 'debian:12');
  assert.equal(b!.image, null);
});

const TAGS = load(`pipeline "t" {
    on "push" branches="main"
    on "tag" tags="v*" "release-{a,b}"
}
stage "build" { image "alpine"; run "make"; }
stage "publish" needs="build" {
    image "alpine"
    run "publish \\"\${git.tag}\\" from \\"\${git.branch}\\""
    env { VERSION "\${git.tag}"; IMAGE "app:\${git.tag}"; }
    when tag="v*"
}
stage "main-only" { image "alpine"; run "x"; when branch="main"; }
`);

function tagTrigger(tag: string | undefined, overrides: Partial<TriggerContext> = {}): TriggerContext {
  return pushTrigger({ event: 'tag', branch: undefined, ...(tag === undefined ? {} : { tag }), ...overrides });
}

test('a tag trigger runs when one `on "tag"` glob matches the tag, with the same globs as branches', () => {
  for (const tag of ['v1.2.0', 'v2', 'release-a']) assert.equal(plan(TAGS, tagTrigger(tag)).triggered, true, tag);
  const other = plan(TAGS, tagTrigger('nightly'));
  assert.equal(other.triggered, false);
  assert.equal(other.notTriggeredReason, 'tag "nightly" does not match the `on "tag"` tag filter "v*", "release-{a,b}"');
  // `*` stays within one path segment, as for branches.
  assert.equal(plan(TAGS, tagTrigger('v1/rc')).triggered, false);
});

test('`on "tag"` without globs matches every tag; a tag trigger needs its tag', () => {
  const spec = load('pipeline "t" { on "tag"; }\nstage "a" { image "alpine"; run "true"; }\n');
  assert.equal(plan(spec, tagTrigger('anything')).triggered, true);
  assert.throws(() => plan(spec, tagTrigger(undefined)), { name: 'PlanError', message: 'the event "tag" needs the tag that was pushed (e.g. --tag v1.2.0)' });
  assert.throws(() => plan(spec, tagTrigger('')), PlanError);
});

test('a pushed tag is the event "tag": `on "push"` branch filters refuse a push without a branch, and `on "tag"` ignores pushes', () => {
  const pushOfTag = plan(TAGS, pushTrigger({ branch: undefined, tag: 'v1.0.0' }));
  assert.equal(pushOfTag.triggered, false);
  assert.equal(pushOfTag.notTriggeredReason, '"push" without a branch does not match the branch filter "main"');
  const onlyPush = load('pipeline "p" { on "push" branches="main"; }\nstage "a" { image "alpine"; run "true"; }\n');
  assert.equal(plan(onlyPush, tagTrigger('v1.0.0')).notTriggeredReason, 'the pipeline has no `on "tag"` trigger (it runs on "push")');
  const onlyTags = load('pipeline "p" { on "tag" tags="v*"; }\nstage "a" { image "alpine"; run "true"; }\n');
  assert.equal(plan(onlyTags, pushTrigger()).notTriggeredReason, 'the pipeline has no `on "push"` trigger (it runs on "tag")');
});

test('`when tag=` skips stages whose trigger has no matching tag, with the reason', () => {
  const skips = (trigger: TriggerContext) => Object.fromEntries(plan(TAGS, trigger).stages.map((s) => [s.id, s.skip?.reason ?? null]));
  assert.deepEqual(skips(tagTrigger('v1.2.0')), { build: null, 'main-only': 'when branch="main": the trigger has no branch', publish: null });
  assert.deepEqual(skips(pushTrigger()), { build: null, 'main-only': null, publish: 'when tag="v*": the trigger has no tag' });
  assert.equal(skips(tagTrigger('release-a')).publish, 'when tag="v*" does not match tag "release-a"');
});

test('`${git.tag}` is the tag as text in env values and an environment variable in run scripts, empty without a tag', () => {
  const publish = plan(TAGS, tagTrigger('v1.2.0')).stages.find((s) => s.id === 'publish')!;
  assert.deepEqual(publish.commands, ['publish "${BUILDIT_GIT_TAG}" from "${BUILDIT_GIT_BRANCH}"']);
  assert.deepEqual(publish.env, { VERSION: 'v1.2.0', IMAGE: 'app:v1.2.0', BUILDIT_GIT_TAG: 'v1.2.0', BUILDIT_GIT_BRANCH: '' });
  const onPush = plan(TAGS, pushTrigger()).stages.find((s) => s.id === 'publish')!;
  assert.deepEqual(onPush.env, { VERSION: '', IMAGE: 'app:', BUILDIT_GIT_TAG: '', BUILDIT_GIT_BRANCH: 'main' });
});

test('`${git.pr}`, `${git.source_branch}` and `${git.target_branch}` come from the pull request of the trigger, empty without one', () => {
  const spec = load(
    'pipeline "p" { on "pull_request"; on "push"; }\nstage "a" { image "alpine"; run "echo ${git.pr}"; env { FROM "${git.source_branch}->${git.target_branch}"; } }\n',
  );
  const pullRequest = { number: 42, sourceBranch: 'feature/x', targetBranch: 'main' };
  const stage = plan(spec, { event: 'pull_request', branch: 'main', sha: 'a'.repeat(40), pullRequest, runId: 'r', runNumber: 1 }).stages[0]!;
  assert.deepEqual(stage.commands, ['echo ${BUILDIT_GIT_PR}']);
  assert.deepEqual(stage.env, { FROM: 'feature/x->main', BUILDIT_GIT_PR: '42' });
  assert.deepEqual(plan(spec, pushTrigger()).stages[0]!.env, { FROM: '->', BUILDIT_GIT_PR: '' });
});

test('a hostile tag stays data: it never enters the script text', () => {
  const hostile = `v1"; touch /tmp/pwned; echo "$(id)\`id\`'`;
  const spec = load('pipeline "t" { on "tag"; }\nstage "a" { image "alpine"; run "echo \\"${git.tag}\\""; }\n');
  const stage = plan(spec, tagTrigger(hostile)).stages[0]!;
  assert.deepEqual(stage.commands, ['echo "${BUILDIT_GIT_TAG}"']);
  assert.equal(stage.env.BUILDIT_GIT_TAG, hostile);
  assert.deepEqual(stage.commands, plan(spec, tagTrigger('v1')).stages[0]!.commands);
});

const OPTIONAL = load(`pipeline "o"
stage "lint" { image "a"; run "x"; when branch="main"; }
stage "check" needs="lint" { image "a"; run "x"; }
stage "test" { image "a"; run "x"; matrix { node "18" "20"; }; when branch="main"; }
stage "build" { image "a"; run "x"; }
stage "publish" needs="build" {
    needs "lint" "test" optional=#true
    needs "check" optional=#true
    image "a"
    run "x"
}
stage "strict" { needs "lint"; image "a"; run "x"; }
`);

test('an optional need on a stage that runs is waited for like any need', () => {
  const result = plan(OPTIONAL, pushTrigger({ branch: 'main' }));
  const publish = result.stages.find((s) => s.id === 'publish')!;
  assert.deepEqual(publish.needs, ['build', 'lint', 'test[node=18]', 'test[node=20]', 'check']);
  assert.deepEqual(publish.optionalNeeds, ['lint', 'test[node=18]', 'test[node=20]', 'check']);
  assert.equal(publish.level, 2);
  assert.equal(publish.skip, null);
});

test('an optional need on a stage out of the run (its `when`, or a required need of it, is false) is dropped', () => {
  const result = plan(OPTIONAL, pushTrigger({ branch: 'feature/x' }));
  const publish = result.stages.find((s) => s.id === 'publish')!;
  // check is out too: it requires lint, so the orchestrator would skip it.
  assert.deepEqual(publish.needs, ['build']);
  assert.equal(publish.optionalNeeds, undefined);
  assert.equal(publish.level, 1);
  assert.equal(publish.skip, null);
  assert.deepEqual(result.levels, [
    ['lint', 'test[node=18]', 'test[node=20]', 'build'],
    ['check', 'publish', 'strict'],
  ]);
});

test('a required need on a stage skipped by `when` stays, so the dependent is skipped as before', () => {
  const result = plan(OPTIONAL, pushTrigger({ branch: 'feature/x' }));
  const strict = result.stages.find((s) => s.id === 'strict')!;
  assert.deepEqual(strict.needs, ['lint']);
  assert.equal(strict.optionalNeeds, undefined);
  assert.equal(result.stages.find((s) => s.id === 'check')!.needs.join(), 'lint');
});

test('a stage needed both optionally and not is a required need; plans without optional needs have no optionalNeeds', () => {
  const spec = load(`pipeline "b"
stage "a" { image "a"; run "x"; when branch="main"; }
stage "b" needs="a" { needs "a" optional=#true; image "a"; run "x"; }
stage "c" { needs "a" optional=#true; needs "a"; image "a"; run "x"; }
`);
  const result = plan(spec, pushTrigger({ branch: 'dev' }));
  for (const id of ['b', 'c']) {
    const stage = result.stages.find((s) => s.id === id)!;
    assert.deepEqual(stage.needs, ['a'], id);
    assert.equal('optionalNeeds' in stage, false, id);
  }
  assert.ok(plan(MATRIX, pushTrigger()).stages.every((s) => !('optionalNeeds' in s)));
});

test('a lock name that interpolates to nothing is a planning error naming the stage', () => {
  const spec = load(`pipeline "l"
variable "target" default=""
stage "deploy" { image "alpine"; lock "\${var.target}"; run "true"; }
`);
  assert.throws(() => plan(spec, pushTrigger()), {
    name: 'PlanError',
    message: 'the lock name of stage "deploy" is empty after interpolation ("${var.target}"); give its references values',
  });
  assert.equal(plan(spec, pushTrigger({ variables: { target: 'prod' } })).stages[0]!.lock, 'prod');
});

/**
 * A stack plan through BuildIt against bare terraform on the same files: a configuration of 200
 * `terraform_data` resources.
 *
 * BuildIt's run is measured from `POST /api/v1/stacks/{id}/runs` (the configuration uploaded, as
 * `buildit stacks plan` sends it) until the run is `planned`, read from the database every 20 ms: the real
 * route handlers over HTTP (tests/support/api-router.ts), the real worker process (worker/main.ts) woken by the
 * queue's NOTIFY, the upload extracted into a fresh directory, BuildIt's backend override, `plan -out -json`
 * streamed into the run's log, state and lock through the HTTP backend, the run marked `planned` with the
 * summary and changed resources from that stream (lib/stacks/plan-stream.ts). It is also measured until its
 * plan is stored (the worker's `stack run plan stored` line): `show -json`, the attribute-level view, the plan
 * file and plan JSON sealed, which is when an approval can go through. Each run is waited for until stored, so
 * nothing of it overlaps the baseline measured next. The stack's first run (printed apart, as "cold") runs
 * `terraform init`; later runs reuse that init (lib/stacks/terraform/init-cache.ts).
 *
 * Baselines, measured interleaved in the same run, all with local state (no backend round trips):
 * - goal (< 1.3x, POST → planned): bare `terraform init && terraform plan` in a fresh copy of the files: what a
 *   CI job or Atlantis runs for each plan, from a fresh checkout.
 * - bare `terraform plan` in a directory initialized once: the floor.
 * - bare `init` + `plan -out` + `show -json`: the terraform commands of a reviewable plan without BuildIt.
 *
 * Then the median time of each step of BuildIt's run: the API's POST, the wait in the queue, the worker's
 * steps (checkout, init, plan, mark, then show, store: from its log), the state backend's requests (their
 * count and total, within plan), and what is left (the POST until it commits, the worker's bookkeeping, the
 * status polling).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setPrismaForTests } from '../lib/api/db';
import { terraformBinary } from '../lib/stacks/terraform/binary';
import { startTestRouter } from '../tests/support/api-router';
import { packConfiguration } from '../tests/stacks/support';
import { terraform, terraformDir } from '../tests/stacks/terraform';
import { printRatio, summarize } from './support';
import { benchDatabase, cleanup, onCleanup, seedBenchTenant, startWorkerProcess } from './support-db';

const RESOURCES = 200;
const CONFIG = `resource "terraform_data" "r" {
  count = ${RESOURCES}
  input = "value-\${count.index}"
}

output "count" {
  value = length(terraform_data.r)
}
`;
const FINISHED = ['planned', 'no_changes', 'errored', 'cancelled'];
/** How often the run's status is read: often enough to add little, rarely enough not to load the 2 cores. */
const POLL_MS = 20;

process.env.BUILDIT_SECRET_KEY ??= randomBytes(32).toString('base64');
process.env.BUILDIT_LOG_LEVEL ??= 'warn';

type Steps = Record<string, number>;

try {
  const database = await benchDatabase();
  setPrismaForTests(database.prisma);
  let stateRequests: number[] = [];
  const router = await startTestRouter({ onResponse: (_method, pathname, ms) => pathname.includes('/state') && stateRequests.push(ms) });
  onCleanup(() => router.stop());
  const { tenantId, token } = await seedBenchTenant(database.prisma);

  // The worker's log tells how long the job waited in the queue and how long each step took; its `stack run plan
  // stored` line comes once show -json's view and the sealed plan are stored (its timings hold every step).
  let waitedMs = 0;
  const stored = new Map<string, (steps: Steps) => void>();
  await startWorkerProcess({
    databaseUrl: database.url,
    dataDir: mkdtempSync(path.join(tmpdir(), 'buildit-bench-stack-')),
    env: { ...process.env, BUILDIT_PUBLIC_URL: router.url, BUILDIT_WORKER_KINDS: 'stack_run', BUILDIT_SCHEDULER: 'off', BUILDIT_LOG_LEVEL: 'info' },
    onLine: (line) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as { msg?: string; waitedMs?: number; stackRunId?: string; timings?: Steps };
      if (entry.msg === 'job claimed') waitedMs = entry.waitedMs ?? 0;
      if (entry.msg === 'stack run plan stored' && entry.stackRunId) stored.get(entry.stackRunId)?.({ queue: waitedMs, ...entry.timings });
    },
  });

  const request = async (method: string, apiPath: string, body: unknown) => {
    const response = await fetch(`${router.url}${apiPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${apiPath}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { id: string };
  };
  const stack = await request('POST', `/api/v1/tenants/${tenantId}/stacks`, { name: 'bench' });
  const binary = terraformBinary();
  const { dir, env } = terraformDir({ 'main.tf': CONFIG });
  const configuration = packConfiguration(dir);

  const steps: Steps[] = [];
  /** One plan through BuildIt: ms until `planned` and until its plan is stored; returns once stored (nothing of it overlaps what comes next). */
  const planThroughBuildIt = async (stackId: string) => {
    stateRequests = [];
    const start = performance.now();
    const run = await request('POST', `/api/v1/stacks/${stackId}/runs`, { kind: 'plan', configuration });
    const post = performance.now() - start;
    const logged = new Promise<Steps>((resolve) => stored.set(run.id, resolve)).then((worker) => ({ worker, at: performance.now() - start }));
    for (;;) {
      const { status, reason } = await database.prisma.stackRun.findUniqueOrThrow({ where: { id: run.id }, select: { status: true, reason: true } });
      if (status === 'planned') break;
      if (FINISHED.includes(status)) throw new Error(`the run ended ${status}: ${reason}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const planned = performance.now() - start;
    const { worker, at } = await logged;
    stored.delete(run.id);
    const other = planned - Object.entries(worker).reduce((sum, [step, ms]) => (step === 'show' || step === 'store' ? sum : sum + ms), 0);
    const state = { stateRequests: stateRequests.reduce((sum, ms) => sum + ms, 0), stateRequestCount: stateRequests.length };
    steps.push({ post, ...worker, ...state, other, planned, stored: at });
    return { planned, stored: at };
  };

  // The first plan of the process warms up both processes (modules, connections); a new stack's first plan then
  // shows what terraform init costs when it is not reused.
  await planThroughBuildIt(stack.id);
  const second = await request('POST', `/api/v1/tenants/${tenantId}/stacks`, { name: 'cold' });
  console.log(`a stack's first plan (cold: runs terraform init): ${(await planThroughBuildIt(second.id)).planned.toFixed(0)} ms to planned`);
  steps.length = 0;

  const fresh = () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'buildit-bench-bare-'));
    writeFileSync(path.join(copy, 'main.tf'), CONFIG);
    return copy;
  };
  const bareSteps = (commands: string[][], where: () => string) => async () => {
    const cwd = where();
    for (const args of commands) {
      const step = await terraform(binary, cwd, args, env);
      if (step.code !== 0) throw new Error(`terraform ${args[0]} failed: ${step.stderr}`);
    }
  };
  const initialized = fresh();
  await bareSteps([['init', '-input=false']], () => initialized)();

  /** BuildIt and a baseline interleaved (as compare() in support.ts does); prints POST → planned and POST → stored against it. */
  const against = async (baselineName: string, baseline: () => Promise<void>, { runs, goal }: { runs: number; goal?: number }) => {
    const planned: number[] = [];
    const storedAt: number[] = [];
    const bare: number[] = [];
    await planThroughBuildIt(stack.id);
    await baseline();
    for (let i = 0; i < runs; i++) {
      const run = await planThroughBuildIt(stack.id);
      planned.push(run.planned);
      storedAt.push(run.stored);
      const start = performance.now();
      await baseline();
      bare.push(performance.now() - start);
    }
    const base = summarize(bare);
    const subject = `stack plan of ${RESOURCES} terraform_data through BuildIt`;
    const toPlanned = summarize(planned);
    printRatio(`${subject} (POST → planned) vs ${baselineName}`, toPlanned.p50 / base.p50, toPlanned, base, goal);
    const toStored = summarize(storedAt);
    printRatio(`${subject} (POST → plan stored: show -json's review, the sealed plan) vs ${baselineName}`, toStored.p50 / base.p50, toStored, base);
  };
  await against(
    'bare terraform init + plan (fresh copy)',
    bareSteps(
      [
        ['init', '-input=false'],
        ['plan', '-input=false'],
      ],
      fresh,
    ),
    { runs: 7, goal: 1.3 },
  );
  await against(
    'bare terraform plan (initialized directory; the floor)',
    bareSteps([['plan', '-input=false']], () => initialized),
    { runs: 5 },
  );
  await against(
    'bare terraform init + plan -out + show -json (fresh copy)',
    bareSteps(
      [
        ['init', '-input=false'],
        ['plan', '-input=false', '-json', '-out=plan'],
        ['show', '-json', 'plan'],
      ],
      fresh,
    ),
    { runs: 5 },
  );

  const names = [...new Set(steps.flatMap((entry) => Object.keys(entry)))];
  const median = (name: string) => summarize(steps.map((entry) => entry[name] ?? 0)).p50;
  console.log(
    `BuildIt's run, median per step over ${steps.length} runs (ms): ` +
      names.map((name) => `${name} ${median(name).toFixed(name === 'stateRequestCount' ? 0 : 1)}`).join(', '),
  );
  console.log(
    '(post: until the API answered, overlapping the queue; queue … mark: the worker until planned; show, store: after it; ' +
      "stateRequests: the backend requests within plan; other: planned minus the worker's steps before it: the POST until " +
      `its commit, the worker's bookkeeping, noticing "planned" (polled every ${POLL_MS} ms); stored: when the worker logged the stored plan)`,
  );
} finally {
  setPrismaForTests(null);
  await cleanup();
}

/**
 * A stack plan through BuildIt against bare `terraform plan` on the same files: a configuration of 200
 * `terraform_data` resources, uploaded; BuildIt's run is the worker's whole plan phase (fresh directory,
 * backend override, `terraform init`, `plan -out -json` streamed into the run's log, `show -json`, the plan
 * view, everything stored encrypted, state and lock through the HTTP backend served by the real route
 * handlers), measured from the run's creation to `planned`. The baseline is `terraform plan` in an
 * initialized directory with local state. Goal: under 1.3x. For reference, bare `init` + `plan`, and bare
 * `init` + `plan -out` + `show -json`: the terraform commands a reviewed plan needs, so that ratio is
 * BuildIt's own overhead (checkout, backend over HTTP, log, encryption, database).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createStackRun } from '../lib/stacks/runs';
import { planPhase } from '../worker/jobs/stack-run/plan';
import { startTestRouter } from '../tests/support/api-router';
import { packConfiguration } from '../tests/stacks/support';
import { terraform, terraformDir } from '../tests/stacks/terraform';
import { terraformBinary } from '../lib/stacks/terraform/binary';
import { createLogger } from '../lib/log';
import { setPrismaForTests } from '../lib/api/db';
import { compare } from './support';
import { benchDatabase, cleanup, onCleanup, seedBenchTenant } from './support-db';

const RESOURCES = 200;
const CONFIG = `resource "terraform_data" "r" {
  count = ${RESOURCES}
  input = "value-\${count.index}"
}

output "count" {
  value = length(terraform_data.r)
}
`;

process.env.BUILDIT_SECRET_KEY ??= randomBytes(32).toString('base64');
process.env.BUILDIT_LOG_LEVEL ??= 'warn';

try {
  const database = await benchDatabase();
  setPrismaForTests(database.prisma);
  const router = await startTestRouter();
  onCleanup(() => router.stop());
  const { tenantId } = await seedBenchTenant(database.prisma);
  const stack = await database.prisma.stack.create({ data: { tenantId, name: 'bench', slug: 'bench' } });
  const binary = terraformBinary();
  const { dir, env } = terraformDir({ 'main.tf': CONFIG });
  const archive = new Uint8Array(Buffer.from(packConfiguration(dir), 'base64'));
  const deps = {
    prisma: database.prisma,
    dataDir: mkdtempSync(path.join(tmpdir(), 'buildit-bench-stack-')),
    stateBaseUrl: router.url,
    terraformBinary: binary,
    hostProcesses: true,
    cancelGraceMs: 10_000,
    cancelPollMs: 1_000,
  };
  const log = createLogger('bench');
  const signal = new AbortController().signal;

  const throughBuildIt = async () => {
    const run = await database.prisma.$transaction((tx) =>
      createStackRun(tx, { stackId: stack.id, kind: 'plan', event: 'api', triggeredById: null, configArchive: archive }),
    );
    await planPhase(deps, run.id, signal, log);
    const { status, reason } = await database.prisma.stackRun.findUniqueOrThrow({ where: { id: run.id } });
    if (status !== 'planned') throw new Error(`the run ended ${status}: ${reason}`);
  };

  const bare = terraformDir({ 'main.tf': CONFIG });
  const init = await terraform(binary, bare.dir, ['init', '-input=false'], bare.env);
  if (init.code !== 0) throw new Error(`terraform init failed: ${init.stderr}`);
  const barePlan = async () => {
    const plan = await terraform(binary, bare.dir, ['plan', '-input=false'], bare.env);
    if (plan.code !== 0) throw new Error(`terraform plan failed: ${plan.stderr}`);
  };
  const fresh = () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'buildit-bench-bare-'));
    writeFileSync(path.join(copy, 'main.tf'), CONFIG);
    return copy;
  };
  const bareSteps = (steps: string[][]) => async () => {
    const copy = fresh();
    for (const args of steps) {
      const step = await terraform(binary, copy, args, env);
      if (step.code !== 0) throw new Error(`terraform ${args[0]} failed: ${step.stderr}`);
    }
  };
  const bareInitPlan = bareSteps([
    ['init', '-input=false'],
    ['plan', '-input=false'],
  ]);
  const bareReviewablePlan = bareSteps([
    ['init', '-input=false'],
    ['plan', '-input=false', '-json', '-out=plan'],
    ['show', '-json', 'plan'],
  ]);

  await compare(`stack plan of ${RESOURCES} terraform_data through BuildIt vs bare terraform plan`, throughBuildIt, barePlan, {
    runs: 7,
    warmup: 1,
    goal: 1.3,
  });
  await compare(`stack plan of ${RESOURCES} terraform_data through BuildIt vs bare terraform init + plan`, throughBuildIt, bareInitPlan, {
    runs: 5,
    warmup: 1,
  });
  await compare(
    `stack plan of ${RESOURCES} terraform_data through BuildIt vs bare terraform init + plan -out + show -json`,
    throughBuildIt,
    bareReviewablePlan,
    {
      runs: 5,
      warmup: 1,
    },
  );
} finally {
  setPrismaForTests(null);
  await cleanup();
}

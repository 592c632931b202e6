/**
 * Test support for stack runs: a real JobRunner with the worker's stack handlers on the test database, the
 * stack API called through its route files, and a configuration packed as the CLI uploads it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JobRunner } from '../../lib/queue/runner';
import { DRIFT_JOB } from '../../lib/stacks/drift';
import { STACK_RUN_JOB } from '../../lib/stacks/runs';
import { terraformBinaries } from '../../lib/stacks/terraform/binary';
import type { Env } from '../../lib/config/parse';
import { createStackDriftHandler } from '../../worker/jobs/stack-drift';
import { createStackRunHandler } from '../../worker/jobs/stack-run';
import { after } from 'node:test';
import { call, routeHandler, useApiWorld, type ApiTestContext, type CallResult } from '../api/helpers';
import { startTestRouter, type TestRouter } from '../support/api-router';
import type { HttpMethod } from '../../lib/api/operation';
import type { TestDatabase } from '../support/db';

/** `tar -czf` of a directory, base64: the body of an upload (as `buildit stacks plan STACK DIR` sends it). */
export function packConfiguration(dir: string): string {
  return execFileSync('tar', ['-czf', '-', '-C', dir, '--exclude=.terraform', '--exclude=.terraformrc', '.']).toString('base64');
}

export function startStackWorker(
  database: TestDatabase,
  stateBaseUrl: string,
  options: { cancelGraceMs?: number; leaseMs?: number; hostProcesses?: boolean; env?: Env } = {},
): JobRunner {
  const deps = {
    prisma: database.prisma,
    dataDir: mkdtempSync(path.join(tmpdir(), 'buildit-stack-worker-')),
    stateBaseUrl,
    // The worker's binaries as it reads them (BUILDIT_TERRAFORM_BIN, BUILDIT_TERRAFORM_BINS), from `env` when given.
    terraform: terraformBinaries(options.env),
    hostProcesses: options.hostProcesses ?? true,
    cancelGraceMs: options.cancelGraceMs ?? 5_000,
    cancelPollMs: 200,
  };
  return new JobRunner({
    pool: database.pool,
    workerId: `stack-test-${process.pid}`,
    handlers: { [STACK_RUN_JOB]: createStackRunHandler(deps), [DRIFT_JOB]: createStackDriftHandler({ prisma: database.prisma }) },
    kinds: [STACK_RUN_JOB, DRIFT_JOB],
    concurrency: 2,
    pollMs: 200,
    leaseMs: options.leaseMs ?? 15_000,
    heartbeatMs: Math.min(5_000, Math.floor((options.leaseMs ?? 15_000) / 3)),
  });
}

/**
 * For a test file: the API world (useApiWorld) with a test router (the API over HTTP: terraform's state
 * backend, the CLI's server) and a stack worker planning and applying through it, both stopped after the file.
 */
export function useStackWorld(options: Parameters<typeof startStackWorker>[2] = {}): ApiTestContext & { router: TestRouter } {
  let worker: JobRunner | undefined;
  const context = useApiWorld(async (setup) => {
    const router = await startTestRouter();
    Object.assign(setup, { router });
    worker = startStackWorker(setup.database, router.url, options);
    await worker.start();
  }) as ApiTestContext & { router: TestRouter };
  after(async () => {
    await worker?.stop({ graceMs: 1_000 });
    await context.router?.stop();
  });
  return context;
}

/** Every API answer of a test, kept to check that no sensitive value is in any of them. */
export const answers: string[] = [];

export async function api(
  method: HttpMethod,
  apiPath: string,
  token: string,
  params: Record<string, string>,
  body?: unknown,
  query?: Record<string, string>,
): Promise<CallResult> {
  const handler = await routeHandler(method, apiPath);
  const concrete = apiPath.replace(/\{(\w+)\}/g, (_, name: string) => params[name]!);
  const result = await call(handler, method, concrete, { token, params, ...(body !== undefined ? { body } : {}), ...(query ? { query } : {}) });
  answers.push(result.text);
  return result;
}

/** Creates a stack in the tenant through the API (asserting 201); the stack as answered. */
export async function createStack<T extends { id: string } = { id: string }>(token: string, tenantId: string, body: Record<string, unknown>): Promise<T> {
  const created = await api('POST', '/api/v1/tenants/{tenantId}/stacks', token, { tenantId }, body);
  assert.equal(created.status, 201, created.text);
  return created.body as T;
}

/** Queues a plan of an uploaded configuration and waits for its end (planned, no_changes or errored). */
export async function planUpload(token: string, stackId: string, configuration: string): Promise<{ id: string; status: string; reason: string | null }> {
  const created = await api('POST', '/api/v1/stacks/{stackId}/runs', token, { stackId }, { kind: 'plan', configuration });
  assert.equal(created.status, 201, created.text);
  const id = (created.body as { id: string }).id;
  const run = (await waitForRun(token, id, ['planned', 'no_changes', 'errored'])) as { status: string; reason: string | null };
  return { id, status: run.status, reason: run.reason };
}

/**
 * Polls the run through the API until its status is one of `statuses`; a planned run, once its plan is stored
 * too (the moment between, `plan.attributes` `pending`, is tested in plan-stream.test.ts).
 */
export async function waitForRun(token: string, runId: string, statuses: string[], timeoutMs = 60_000): Promise<{ status: string; [key: string]: unknown }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await api('GET', '/api/v1/stack-runs/{stackRunId}', token, { stackRunId: runId });
    const run = result.body as { status: string; reason: string | null; plan: { attributes: string } | null };
    const storing = run.plan?.attributes === 'pending' && ['planned', 'no_changes'].includes(run.status);
    if (statuses.includes(run.status) && !storing) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} is ${run.status} (${run.reason ?? ''}), not ${statuses.join('|')}, after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The run's whole log, as the API pages it. */
export async function runLogText(token: string, runId: string): Promise<string> {
  const logs = (await api('GET', '/api/v1/stack-runs/{stackRunId}/logs', token, { stackRunId: runId })).body as { items: Array<{ text: string }> };
  return logs.items.map((chunk) => chunk.text).join('');
}

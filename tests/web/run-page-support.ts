/**
 * What the run page's browser tests (and bench/log-viewer.bench.ts) share beyond tests/support/web.ts:
 * pipelines and runs made through the REST API, and the DAG node of a stage.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { Run } from '../../lib/api/schemas/runs';
import { sleep } from '../../lib/async';
import type { WebApp } from '../support/web';

export const IMAGE = 'local/busybox:latest';

/** Creates a pipeline with this config and triggers a manual run of it. */
export async function startRun(app: WebApp, name: string, kdl: string): Promise<Run> {
  const pipeline = await app.api<{ id: string }>('POST', `/api/v1/tenants/${app.tenantId}/pipelines`, { name, config: kdl });
  return app.api<Run>('POST', `/api/v1/pipelines/${pipeline.id}/runs`, {});
}

/** Polls the API (the test, not the page) until the run satisfies `done`. */
export async function waitForRun(app: WebApp, runId: string, done: (run: Run) => boolean, timeoutMs = 120_000): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await app.api<Run>('GET', `/api/v1/runs/${runId}`);
    if (done(run)) return run;
    assert.ok(Date.now() < deadline, `run ${runId} did not get there within ${timeoutMs} ms: ${JSON.stringify(run)}`);
    await sleep(250);
  }
}

/** The DAG node of a stage (its `data-status` is the stage's status). */
export const stageNode = (page: Page, stageId: string) => page.locator(`.react-flow [data-stage="${stageId}"]`);

/** Waits until the stage's node says `status`. */
export async function waitForNodeStatus(page: Page, stageId: string, status: string, timeout = 90_000): Promise<void> {
  await page.waitForFunction(
    ([id, wanted]) => document.querySelector(`.react-flow [data-stage="${CSS.escape(id!)}"]`)?.getAttribute('data-status') === wanted,
    [stageId, status],
    { timeout },
  );
}

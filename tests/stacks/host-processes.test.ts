/**
 * terraform runs on the worker's host, where a configuration can run any program (`local-exec`): a worker
 * that runs no host process (BUILDIT_WORKER_EXECUTORS without `local`, the default) ends every stack run it
 * takes errored, saying how to enable it, and runs nothing: the `local-exec` below would leave a file.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { JobRunner } from '../../lib/queue/runner';
import { HOST_PROCESSES_REFUSED } from '../../worker/jobs/stack-run/refused';
import { useApiWorld } from '../api/helpers';
import { startTestRouter, type TestRouter } from '../support/api-router';
import { api, packConfiguration, startStackWorker, waitForRun } from './support';
import { terraformDir } from './terraform';

process.env.BUILDIT_SECRET_KEY = randomBytes(32).toString('base64');

let router: TestRouter;
let worker: JobRunner;

const world = useApiWorld(async ({ database }) => {
  router = await startTestRouter();
  worker = startStackWorker(database, router.url, { hostProcesses: false });
  await worker.start();
});
after(async () => {
  await worker?.stop({ graceMs: 1_000 });
  await router?.stop();
});

test('a worker without host processes ends a stack run errored with how to enable it, and runs nothing', async () => {
  const admin = world.world.adminA.token;
  const created = await api('POST', '/api/v1/tenants/{tenantId}/stacks', admin, { tenantId: world.world.tenantA }, { name: 'Host', autoApply: true });
  assert.equal(created.status, 201, created.text);
  const stackId = (created.body as { id: string }).id;
  const marker = path.join(mkdtempSync(path.join(tmpdir(), 'buildit-host-')), 'ran');
  const config = `resource "terraform_data" "probe" {\n  provisioner "local-exec" {\n    command = "touch ${marker}"\n  }\n}\n`;
  const run = await api(
    'POST',
    '/api/v1/stacks/{stackId}/runs',
    admin,
    { stackId },
    { kind: 'apply', configuration: packConfiguration(terraformDir({ 'main.tf': config }).dir) },
  );
  assert.equal(run.status, 201, run.text);

  const ended = await waitForRun(admin, (run.body as { id: string }).id, ['errored', 'applied']);
  assert.equal(ended.status, 'errored');
  assert.equal(ended.reason, HOST_PROCESSES_REFUSED);
  assert.match(String(ended.reason), /BUILDIT_WORKER_EXECUTORS=docker,local/);
  assert.equal(existsSync(marker), false, 'terraform never ran');
});

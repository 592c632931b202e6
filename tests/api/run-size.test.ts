// A pipeline the server accepts must never take it down: the 76,800-stage pipeline that once made a
// trigger answer 500 after 34 s (web process at 2.8 GB) is refused on save with a diagnostic, and a
// stored one (saved before the cap) is refused at trigger time with a 422, before any stage is expanded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as triggerRoute from '../../app/api/v1/pipelines/[pipelineId]/runs/route';
import * as tenantPipelinesRoute from '../../app/api/v1/tenants/[tenantId]/pipelines/route';
import { assertError, call, expectStatus, useApiWorld } from './helpers';

const api = useApiWorld();

const SIXTEEN = Array.from({ length: 16 }, (_, i) => `"${i}"`).join(' ');
/** 300 stages with a 16x16 matrix each and a `when` that never holds: 76,800 planned stages. */
const HUGE = `pipeline "huge"\n${Array.from(
  { length: 300 },
  (_, i) => `stage "s${i}" {\n    image "alpine"\n    run "true"\n    matrix { a ${SIXTEEN}; b ${SIXTEEN}; }\n    when branch="never"\n}\n`,
).join('')}`;
/** At the cap: 4 stages x 250 combinations = 1,000 planned stages. */
const AT_CAP = `pipeline "big"\n${Array.from(
  { length: 4 },
  (_, i) =>
    `stage "s${i}" {\n    image "alpine"\n    run "true"\n    matrix { a ${Array.from({ length: 25 }, (_, v) => `"${v}"`).join(' ')}; b ${Array.from({ length: 10 }, (_, v) => `"${v}"`).join(' ')}; }\n}\n`,
).join('')}`;

test('saving a pipeline over the run-size cap is refused with the diagnostic; nothing is stored', async () => {
  const response = await call(tenantPipelinesRoute.POST, 'POST', '/', {
    token: api.world.adminA.token,
    params: { tenantId: api.world.tenantA },
    body: { name: 'Huge', config: HUGE },
  });
  assertError(response, 422, 'invalid_pipeline');
  assert.match(JSON.stringify(response.body), /the pipeline plans 76800 stages per run \(matrices expanded\); at most 1000 are allowed/);
  assert.equal(await api.database.prisma.pipeline.count({ where: { name: 'Huge' } }), 0);
});

test('a pipeline at the cap is accepted and triggered: 1,000 stage runs', async () => {
  const created = await call(tenantPipelinesRoute.POST, 'POST', '/', {
    token: api.world.adminA.token,
    params: { tenantId: api.world.tenantA },
    body: { name: 'Big', config: AT_CAP },
  });
  expectStatus(created, 201);
  const pipelineId = (created.body as { id: string }).id;
  const triggered = await call(triggerRoute.POST, 'POST', '/', { token: api.world.memberA.token, params: { pipelineId }, body: { event: 'manual' } });
  expectStatus(triggered, 201);
  assert.equal((triggered.body as { stages: unknown[] }).stages.length, 1000);
});

test('a stored pipeline over the cap (saved before it existed) is refused at trigger time with a 422, not a 500', async () => {
  const stored = await api.database.prisma.pipeline.create({ data: { tenantId: api.world.tenantA, name: 'Legacy huge', slug: 'legacy-huge', config: HUGE } });
  const response = await call(triggerRoute.POST, 'POST', '/', { token: api.world.memberA.token, params: { pipelineId: stored.id }, body: { event: 'manual' } });
  assert.equal(response.status, 422, JSON.stringify(response.body));
  assert.match(JSON.stringify(response.body), /76800 stages/);
  assert.equal(await api.database.prisma.pipelineRun.count({ where: { pipelineId: stored.id } }), 0);
});

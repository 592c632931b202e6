import { createPipeline, listPipelines } from '../../../../../../lib/api/schemas/pipelines';
import * as pipelines from '../../../../../../lib/api/services/pipelines';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listPipelines, async ({ prisma, actor, params, query }) =>
  json(await pipelines.listPipelines(prisma, actor, params.tenantId, query)),
);

export const POST = withApi(createPipeline, async ({ prisma, actor, params, body, origin }) =>
  json(await pipelines.createPipeline(prisma, actor, params.tenantId, body, origin), 201),
);

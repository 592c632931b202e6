import { deletePipeline, getPipeline, updatePipeline } from '../../../../../lib/api/schemas/pipelines';
import * as pipelines from '../../../../../lib/api/services/pipelines';
import { json, noContent, withApi } from '../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(getPipeline, async ({ prisma, actor, params }) => json(await pipelines.getPipeline(prisma, actor, params.pipelineId)));

export const PATCH = withApi(updatePipeline, async ({ prisma, actor, params, body, origin }) =>
  json(await pipelines.updatePipeline(prisma, actor, params.pipelineId, body, origin)),
);

export const DELETE = withApi(deletePipeline, async ({ prisma, actor, params, origin }) => {
  await pipelines.deletePipeline(prisma, actor, params.pipelineId, origin);
  return noContent();
});

import { buildOpenApiDocument } from '../../../../lib/api/openapi';
import { openApiDocument } from '../../../../lib/api/schemas';
import { json, withApi } from '../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(openApiDocument, async () => json(buildOpenApiDocument()));

import { listAuditLog } from '../../../../../../lib/api/schemas/audit';
import * as audit from '../../../../../../lib/api/services/audit';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listAuditLog, async ({ prisma, actor, params, query }) =>
  json(await audit.listAuditLog(prisma, actor, params.organizationId, query)),
);

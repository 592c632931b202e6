import { createToken, listTokens } from '../../../../lib/api/schemas/tokens';
import * as tokens from '../../../../lib/api/services/tokens';
import { json, withApi } from '../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const GET = withApi(listTokens, async ({ prisma, actor, query }) => json(await tokens.listTokens(prisma, actor, query)));

export const POST = withApi(createToken, async ({ prisma, actor, body, origin }) => json(await tokens.createToken(prisma, actor, body, origin), 201));

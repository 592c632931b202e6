import { revokeToken } from '../../../../../../lib/api/schemas/tokens';
import * as tokens from '../../../../../../lib/api/services/tokens';
import { json, withApi } from '../../../../../../lib/api/with-api';

export const dynamic = 'force-dynamic';

export const POST = withApi(revokeToken, async ({ prisma, actor, params, origin }) => json(await tokens.revokeToken(prisma, actor, params.tokenId, origin)));

import { getStackState, postStackState } from '../../../../../../lib/api/schemas/stack-state';
import { withApi } from '../../../../../../lib/api/with-api';
import { getState, postState } from '../../../../../../lib/stacks/state/backend';

export const dynamic = 'force-dynamic';

export const GET = withApi(getStackState, ({ prisma, request, params }) => getState(prisma, request, params.stackId));
export const POST = withApi(postStackState, ({ prisma, request, params }) => postState(prisma, request, params.stackId));

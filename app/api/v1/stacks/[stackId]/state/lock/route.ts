import { lockStackState } from '../../../../../../../lib/api/schemas/stack-state';
import { withApi } from '../../../../../../../lib/api/with-api';
import { lockState } from '../../../../../../../lib/stacks/state/backend';

export const dynamic = 'force-dynamic';

export const POST = withApi(lockStackState, ({ prisma, request, params }) => lockState(prisma, request, params.stackId));

import { unlockStackState } from '../../../../../../../lib/api/schemas/stack-state';
import { withApi } from '../../../../../../../lib/api/with-api';
import { unlockState } from '../../../../../../../lib/stacks/state/backend';

export const dynamic = 'force-dynamic';

export const POST = withApi(unlockStackState, ({ prisma, request, params }) => unlockState(prisma, request, params.stackId));

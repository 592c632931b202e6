/** The forges whose webhooks BuildIt takes (docs/webhooks.md), by the name in the webhook URL. */
import { gitea } from './gitea';
import { github } from './github';
import { gitlab } from './gitlab';
import type { Forge, ForgeName } from './types';

export * from './types';
export { gitea, github, gitlab };

export const forges: Record<ForgeName, Forge> = { github, gitlab, gitea };

/**
 * GitLab webhooks: the secret token sent as is in `X-Gitlab-Token`, the event in `X-Gitlab-Event`
 * (`Push Hook`, `Tag Push Hook`, `Merge Request Hook`), the delivery in `X-Gitlab-Event-UUID`.
 * https://docs.gitlab.com/user/project/integrations/webhook_events/
 */
import {
  baseBefore,
  httpUrl,
  authorOf,
  commitWithId,
  constantTimeEqual,
  firstLine,
  hexSha,
  positiveInt,
  pushEvent,
  record,
  requiredString,
  type Forge,
  type ParsedDelivery,
  type ParsedWithoutTarget,
  type StatusTarget,
  withStatusTarget,
} from './types';

/** Merge request actions that put new code in front of the pipeline (`update` only with new commits: `oldrev`). */
const MERGE_REQUEST_ACTIONS = ['open', 'reopen', 'update'];

export const gitlab: Forge = {
  name: 'gitlab',
  deliveryHeader: 'x-gitlab-event-uuid',

  verify(headers, _body, secret) {
    const token = headers.get('x-gitlab-token');
    return token !== null && constantTimeEqual(token, secret);
  },

  parse(headers, payload): ParsedDelivery {
    return withStatusTarget(parseEvent(headers, payload), () => statusTarget(record(payload)));
  },
};

function parseEvent(headers: Headers, payload: unknown): ParsedWithoutTarget {
  const event = headers.get('x-gitlab-event');
  const body = record(payload);
  switch (event) {
    case 'Push Hook':
    case 'Tag Push Hook': {
      const user = authorOf(body.user_name, body.user_email);
      return pushEvent(body, (sha) => commitWithId(body.commits, sha), user, body.checkout_sha);
    }
    case 'Merge Request Hook': {
      const attributes = record(body.object_attributes);
      const action = String(attributes.action);
      if (!MERGE_REQUEST_ACTIONS.includes(action)) {
        return { kind: 'ignored', reason: `merge request action "${action}" starts no run (only open, reopen, and update with new commits)` };
      }
      if (action === 'update' && attributes.oldrev === undefined) {
        return { kind: 'ignored', reason: 'merge request update without new commits (no `oldrev`) starts no run' };
      }
      const lastCommit = record(attributes.last_commit);
      return {
        kind: 'event',
        event: {
          event: 'pull_request',
          number: positiveInt(attributes.iid, '`object_attributes.iid`'),
          sha: hexSha(lastCommit.id, '`object_attributes.last_commit.id`'),
          sourceBranch: requiredString(attributes.source_branch, '`object_attributes.source_branch`'),
          targetBranch: requiredString(attributes.target_branch, '`object_attributes.target_branch`'),
          message: firstLine(attributes.title),
          author: authorOf(record(body.user).username ?? record(body.user).name, null),
        },
      };
    }
    case null:
      return { kind: 'ignored', reason: 'no X-Gitlab-Event header' };
    default:
      return { kind: 'ignored', reason: `GitLab event "${event}" starts no run (only Push Hook, Tag Push Hook and Merge Request Hook)` };
  }
}

/**
 * Where GitLab takes the commit status: `project.id` on `project.web_url`'s base (its origin, or the path
 * GitLab is installed under) + `/api/v4`.
 */
function statusTarget(body: Record<string, unknown>): StatusTarget | null {
  const project = record(body.project);
  const id = project.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) return null;
  const web = httpUrl(project.web_url);
  if (web === null) return null;
  const path = typeof project.path_with_namespace === 'string' ? project.path_with_namespace : web.pathname.replace(/^\/+|\/+$/g, '');
  return { forge: 'gitlab', apiUrl: `${baseBefore(web, path)}/api/v4`, repository: String(id) };
}

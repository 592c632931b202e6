/**
 * The payload shapes Gitea (and Forgejo) copied from GitHub: a push with `head_commit` and `commits`, a
 * pull request with `head`/`base` refs. One reading for both forges; each keeps its own headers, actions and
 * status target.
 */
import { authorOf, commitWithId, firstLine, hexSha, positiveInt, pushEvent, record, requiredString, type ParsedWithoutTarget } from './types';

/** A push: the run's commit is `after`, or for a tag the commit `head_commit` names (the tag object is not). */
export function githubStylePush(body: Record<string, unknown>, pusher: string | null): ParsedWithoutTarget {
  const headCommit = record(body.head_commit);
  return pushEvent(
    body,
    (sha) => (typeof headCommit.id === 'string' && headCommit.id.toLowerCase() === sha ? headCommit : commitWithId(body.commits, sha)),
    pusher,
    headCommit.id,
  );
}

/** A pull request opened or updated (`actions`: the forge's names for that): its head commit on its target branch. */
export function githubStylePullRequest(body: Record<string, unknown>, actions: readonly string[]): ParsedWithoutTarget {
  const action = String(body.action);
  if (!actions.includes(action)) return { kind: 'ignored', reason: `pull request action "${action}" starts no run (only ${actions.join(', ')})` };
  const pr = record(body.pull_request);
  const head = record(pr.head);
  const base = record(pr.base);
  return {
    kind: 'event',
    event: {
      event: 'pull_request',
      number: positiveInt(pr.number ?? body.number, '`pull_request.number`'),
      sha: hexSha(head.sha, '`pull_request.head.sha`'),
      sourceBranch: requiredString(head.ref, '`pull_request.head.ref`'),
      targetBranch: requiredString(base.ref, '`pull_request.base.ref`'),
      message: firstLine(pr.title),
      author: authorOf(record(pr.user).login, null),
    },
  };
}

/**
 * The forges' commit status APIs (docs/webhooks.md, "Commit status"):
 * - GitHub `POST {api}/repos/{owner}/{repo}/statuses/{sha}` `{ state, target_url, description, context }`,
 *   `Authorization: Bearer <token>`;
 * - GitLab `POST {api}/projects/{id}/statuses/{sha}` `{ state, target_url, description, name }`, `PRIVATE-TOKEN`;
 * - Gitea/Forgejo `POST {api}/repos/{owner}/{repo}/statuses/{sha}` `{ state, target_url, description, context }`,
 *   `Authorization: token <token>`.
 * The token goes into a header and nowhere else: errors name the URL and the answer's status, and any
 * occurrence of the token in them (a forge echoing it) is replaced by `***`.
 */
import type { ForgeName } from '../forges/types';

export interface CommitStatus {
  forge: ForgeName;
  apiUrl: string;
  repository: string;
  sha: string;
  state: string;
  targetUrl: string;
  description: string;
  context: string;
}

/** How long one call may take before it counts as failed (and is retried by the queue). */
export const STATUS_TIMEOUT_MS = 10_000;

/** A call the forge did not accept (or that did not reach it): the job is retried. */
export class CommitStatusError extends Error {
  override name = 'CommitStatusError';
}

const encodeRepository = (repository: string) => repository.split('/').map(encodeURIComponent).join('/');

/** The request a status is sent with (exported for tests). */
export function statusRequest(status: CommitStatus, token: string): { url: string; headers: Record<string, string>; body: Record<string, string> } {
  const api = status.apiUrl.replace(/\/+$/, '');
  const sha = encodeURIComponent(status.sha);
  const common = { state: status.state, target_url: status.targetUrl, description: status.description };
  const json = { 'content-type': 'application/json', accept: 'application/json', 'user-agent': 'BuildIt' };
  switch (status.forge) {
    case 'github':
      return {
        url: `${api}/repos/${encodeRepository(status.repository)}/statuses/${sha}`,
        headers: { ...json, accept: 'application/vnd.github+json', authorization: `Bearer ${token}`, 'x-github-api-version': '2022-11-28' },
        body: { ...common, context: status.context },
      };
    case 'gitlab':
      return {
        url: `${api}/projects/${encodeURIComponent(status.repository)}/statuses/${sha}`,
        headers: { ...json, 'private-token': token },
        body: { ...common, name: status.context },
      };
    case 'gitea':
      return {
        url: `${api}/repos/${encodeRepository(status.repository)}/statuses/${sha}`,
        headers: { ...json, authorization: `token ${token}` },
        body: { ...common, context: status.context },
      };
  }
}

/** Without the token, wherever it appears. */
export function redact(text: string, token: string): string {
  return token === '' ? text : text.split(token).join('***');
}

/** Sends one status; throws CommitStatusError (never containing the token) unless the forge answers 2xx. */
export async function sendCommitStatus(status: CommitStatus, token: string, signal?: AbortSignal): Promise<void> {
  const request = statusRequest(status, token);
  const timeout = AbortSignal.timeout(STATUS_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: JSON.stringify(request.body),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      redirect: 'error',
    });
  } catch (error) {
    const cause = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
    throw new CommitStatusError(redact(`POST ${request.url} failed: ${timeout.aborted ? `no answer within ${STATUS_TIMEOUT_MS} ms` : cause}`, token));
  }
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const text = (await response.text().catch(() => '')).slice(0, 500);
  throw new CommitStatusError(redact(`POST ${request.url} answered ${response.status}${text ? `: ${text}` : ''}`, token));
}

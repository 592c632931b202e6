/**
 * Webhooks of the forges (docs/webhooks.md): each module (github.ts, gitlab.ts, gitea.ts) verifies a delivery
 * with the forge's own scheme and turns its payload into a ForgeEvent or the reason to ignore it. Pure
 * functions of the headers and the body: no database, no clock, no network.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const FORGES = ['github', 'gitlab', 'gitea'] as const;
export type ForgeName = (typeof FORGES)[number];

/** The commit a run is for and who made it. */
export interface ForgeCommit {
  sha: string;
  /** The first line of its message (for a pull request: its title). */
  message: string | null;
  author: string | null;
}

/**
 * Where the commit status of a run is reported (docs/webhooks.md, "Commit status"): the forge's API base URL
 * and the repository as its status API names it (GitHub and Gitea `owner/name`, GitLab the project id).
 * The commit is the event's `sha`.
 */
export interface StatusTarget {
  forge: ForgeName;
  /** e.g. `https://api.github.com`, `https://gitlab.example.com/api/v4`, `https://gitea.example.com/api/v1` */
  apiUrl: string;
  repository: string;
}

/**
 * A delivery that starts a run. `statusTarget` is null when the payload does not say where the repository is.
 * A push's `before` is the branch's commit before the push; null for a new branch (or a forge that does not say).
 */
export type ForgeEvent = (
  | ({ event: 'push'; branch: string; before: string | null } & ForgeCommit)
  | ({ event: 'tag'; tag: string } & ForgeCommit)
  | ({ event: 'pull_request'; number: number; sourceBranch: string; targetBranch: string } & ForgeCommit)
) & { statusTarget: StatusTarget | null };

/** An event before its status target is known (what pushEvent and the forges' parsers build). */
export type ForgeEventWithoutTarget = ForgeEvent extends infer E ? (E extends unknown ? Omit<E, 'statusTarget'> : never) : never;

/** The parse of a payload before the forge adds its status target. */
export type ParsedWithoutTarget = { kind: 'event'; event: ForgeEventWithoutTarget } | { kind: 'ignored'; reason: string };

/** Adds the status target (found in the payload by `target`, which must not throw) to an event. */
export function withStatusTarget(parsed: ParsedWithoutTarget, target: () => StatusTarget | null): ParsedDelivery {
  if (parsed.kind === 'ignored') return parsed;
  return { kind: 'event', event: { ...parsed.event, statusTarget: target() } as ForgeEvent };
}

/** An absolute http(s) URL of the payload, or null. */
export function httpUrl(value: unknown): URL | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/**
 * The part of `url` before `/<suffix>` (a forge installed under a path, e.g. https://example.com/git/o/r →
 * https://example.com/git), or the URL's origin when it does not end so; no trailing slash.
 */
export function baseBefore(url: URL, suffix: string): string {
  const href = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  const tail = `/${suffix}`;
  return href.toLowerCase().endsWith(tail.toLowerCase()) ? href.slice(0, -tail.length) : url.origin;
}

/** What a payload is: an event to run, or why nothing runs (answered 202 with that reason). */
export type ParsedDelivery = { kind: 'event'; event: ForgeEvent } | { kind: 'ignored'; reason: string };

/** A forge's webhook scheme. */
export interface Forge {
  name: ForgeName;
  /** The header naming the delivery (the same id when the forge redelivers it), for idempotency. */
  deliveryHeader: string;
  /** Whether the request carries a valid signature (or token) for `secret`; constant-time. */
  verify(headers: Headers, body: Uint8Array, secret: string): boolean;
  /** The event of a verified delivery. `body` is the parsed JSON. */
  parse(headers: Headers, body: unknown): ParsedDelivery;
}

/** A payload field that is not what the forge documents: a 400 `invalid_payload`. */
export class PayloadError extends Error {
  override name = 'PayloadError';
}

const ZERO_SHA = /^0+$/;

/** A commit id the forge sends: 40 (SHA-1) or 64 (SHA-256) hex digits; all zeros means "no commit" (a deletion). */
export function isZeroSha(sha: unknown): boolean {
  return typeof sha === 'string' && ZERO_SHA.test(sha);
}

export function hexSha(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(value)) throw new PayloadError(`${what} is not a commit id`);
  return value.toLowerCase();
}

/** HMAC-SHA256 of the raw body with the secret, as hex. */
export function hmacSha256Hex(secret: string, body: Uint8Array): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Equal strings, in time that depends only on their lengths (compares SHA-256 digests of both). */
export function constantTimeEqual(given: string, expected: string): boolean {
  const a = createHmac('sha256', 'buildit webhook compare').update(given).digest();
  const b = createHmac('sha256', 'buildit webhook compare').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** The first line of a commit message, trimmed; null when there is none. */
export function firstLine(message: unknown): string | null {
  if (typeof message !== 'string') return null;
  const line = message.split(/\r?\n/, 1)[0]!.trim();
  return line === '' ? null : line.slice(0, 1000);
}

/** `Name <email>` when both are known, else whichever is. */
export function authorOf(name: unknown, email: unknown): string | null {
  const n = typeof name === 'string' && name.trim() !== '' ? name.trim() : null;
  const e = typeof email === 'string' && email.trim() !== '' ? email.trim() : null;
  if (n && e) return `${n} <${e}>`.slice(0, 500);
  return (n ?? e)?.slice(0, 500) ?? null;
}

/** A git ref: `refs/heads/x` → branch x, `refs/tags/v1` → tag v1; anything else is not built. */
export function refKind(ref: unknown): { kind: 'branch' | 'tag'; name: string } | null {
  if (typeof ref !== 'string') throw new PayloadError('the payload has no `ref`');
  if (ref.startsWith('refs/heads/') && ref.length > 'refs/heads/'.length) return { kind: 'branch', name: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/') && ref.length > 'refs/tags/'.length) return { kind: 'tag', name: ref.slice('refs/tags/'.length) };
  return null;
}

/** An object field of the payload (or an empty object). */
export function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function requiredString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new PayloadError(`${what} is missing`);
  return value;
}

export function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw new PayloadError(`${what} is not a number`);
  return value;
}

/**
 * A push (branch or tag) from the fields every forge names alike (`ref`, `after`, `commits`), with the head
 * commit found by `headCommit`. A deletion (`after` all zeros) or a ref that is neither a branch nor a tag
 * is ignored.
 */
export function pushEvent(
  body: Record<string, unknown>,
  headCommit: (sha: string) => Record<string, unknown> | null,
  pusher: string | null,
  taggedCommit: unknown,
): ParsedWithoutTarget {
  const ref = refKind(body.ref);
  if (ref === null) return { kind: 'ignored', reason: `ref "${String(body.ref)}" is neither a branch nor a tag` };
  if (body.deleted === true || isZeroSha(body.after)) return { kind: 'ignored', reason: `the ${ref.kind} "${ref.name}" was deleted: nothing to build` };
  // The `after` of an annotated tag is the tag object: the run is of the commit it tags, which the forge names apart.
  const sha =
    ref.kind === 'tag' && typeof taggedCommit === 'string' && taggedCommit !== '' ? hexSha(taggedCommit, 'the tagged commit') : hexSha(body.after, '`after`');
  const commit = headCommit(sha);
  const author = commit ? authorOf(record(commit.author).name, record(commit.author).email) : null;
  const common = { sha, message: commit ? firstLine(commit.message) : null, author: author ?? pusher };
  const before = typeof body.before === 'string' && !isZeroSha(body.before) ? hexSha(body.before, '`before`') : null;
  return {
    kind: 'event',
    event: ref.kind === 'branch' ? { event: 'push', branch: ref.name, before, ...common } : { event: 'tag', tag: ref.name, ...common },
  };
}

/** The commit among `commits` with this id (forges list the pushed commits oldest first). */
export function commitWithId(commits: unknown, sha: string): Record<string, unknown> | null {
  if (!Array.isArray(commits)) return null;
  return (commits.map(record).find((commit) => typeof commit.id === 'string' && commit.id.toLowerCase() === sha) ?? null) as Record<string, unknown> | null;
}

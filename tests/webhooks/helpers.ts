/** Payloads for the webhook tests: GitHub's published examples (@octokit/webhooks-examples), GitLab's and Gitea's from their documentation (fixtures/). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

type Examples = Array<{ name: string; examples: Array<Record<string, unknown>> }>;
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as Examples;

/** The first example payload of GitHub's event `name` that `pick` accepts. */
export function githubExample(name: string, pick: (payload: Record<string, unknown>) => boolean): Record<string, unknown> {
  const found = examples.find((event) => event.name === name)?.examples.find(pick);
  assert.ok(found, `no ${name} example`);
  return found;
}

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8')) as Record<string, unknown>;
}

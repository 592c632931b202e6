/**
 * What a trigger of a pipeline with a `repository` decides once, before the run exists (see docs/source.md):
 * - the commit: the trigger's sha, else the head of its branch (or its tag) resolved with `git ls-remote`,
 *   so every stage and every re-run use the same commit;
 * - the config, when the pipeline stores none: `configPath` at that commit, read from the local mirror
 *   (`git show SHA:PATH`), so the plan is made from the file of that very commit.
 * A failure is a SourceError (the API answers 422 with it).
 */
import type { PrismaClient } from '../generated/prisma/client';
import { readSecretValues } from '../secrets/store';
import { displayUrl, GitError, gitCredentials, NO_CREDENTIALS, resolveRemoteRef, type GitCredentials } from './git';
import { MirrorStore } from './mirror';
import { readIncludedFiles } from '../pipeline';

export class SourceError extends Error {
  constructor(
    message: string,
    readonly code: 'source_unavailable' | 'credentials_missing',
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

export interface SourcePipeline {
  tenantId: string;
  repository: string;
  config: string | null;
  configPath: string;
  credentialsSecret: string | null;
}

/** The pipeline's credentials, from its tenant secret (never logged); a named secret that is gone is a SourceError. */
export async function pipelineCredentials(
  prisma: PrismaClient,
  pipeline: Pick<SourcePipeline, 'tenantId' | 'credentialsSecret'>,
  dataDir?: string,
): Promise<GitCredentials> {
  if (!pipeline.credentialsSecret) return NO_CREDENTIALS;
  const values = await readSecretValues(prisma, pipeline.tenantId, [pipeline.credentialsSecret], dataDir !== undefined ? { dataDir } : {});
  const value = values[pipeline.credentialsSecret];
  if (value === undefined) {
    throw new SourceError(
      `the pipeline's credentials secret "${pipeline.credentialsSecret}" does not exist in the tenant: set it (buildit secrets set ${pipeline.credentialsSecret}) or change credentialsSecret`,
      'credentials_missing',
    );
  }
  return gitCredentials(value);
}

export interface ResolvedSource {
  sha: string;
  /** The KDL at that commit (pipelines without a stored config), or null when the file is not there. */
  config: string | null;
  /** The files the config includes, by path, at that commit (see lib/pipeline/includes.ts). */
  includes: Record<string, string>;
  /** The files changed since the trigger's `changedSince` (absent when it has none). */
  changedFiles?: string[];
}

function describe(error: unknown): string {
  if (error instanceof GitError) return `${error.message}${error.hint ? ` (${error.hint})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

export async function resolveTriggerSource(
  prisma: PrismaClient,
  pipeline: SourcePipeline,
  trigger: { branch?: string; tag?: string; sha?: string; changedSince?: string },
  options: { dataDir: string },
): Promise<ResolvedSource> {
  const credentials = await pipelineCredentials(prisma, pipeline, options.dataDir);
  const url = pipeline.repository;
  try {
    let sha = trigger.sha;
    if (sha === undefined) {
      const ref = trigger.tag !== undefined ? `refs/tags/${trigger.tag}` : trigger.branch !== undefined ? `refs/heads/${trigger.branch}` : null;
      if (ref === null) throw new SourceError('the trigger names no branch, tag or sha to run', 'source_unavailable');
      try {
        sha = await resolveRemoteRef(url, ref, credentials);
      } catch (error) {
        const what = trigger.tag !== undefined ? `tag "${trigger.tag}"` : `branch "${trigger.branch}"`;
        throw new SourceError(`could not resolve the ${what} of ${displayUrl(url)}: ${describe(error)}`, 'source_unavailable');
      }
    }
    if (pipeline.config !== null && trigger.changedSince === undefined) return { sha, config: null, includes: {} };
    const mirrors = MirrorStore.inDataDir(options.dataDir);
    let resolved = sha;
    try {
      const ensured = await mirrors.ensureCommit(url, sha, { credentials });
      resolved = ensured.sha;
      const changedFiles = trigger.changedSince === undefined ? undefined : await changedSince(mirrors, url, trigger.changedSince, ensured.sha);
      const config = pipeline.config !== null ? null : await mirrors.readFile(url, ensured.sha, pipeline.configPath);
      const includes = config === null ? {} : await readIncludedFiles(config, (path) => mirrors.readFile(url, ensured.sha, path));
      return { sha: ensured.sha, config, includes, ...(changedFiles ? { changedFiles } : {}) };
    } catch (error) {
      if (error instanceof SourceError) throw error;
      throw new SourceError(`could not read ${pipeline.configPath} at ${resolved} from ${displayUrl(url)}: ${describe(error)}`, 'source_unavailable');
    }
  } finally {
    await credentials.cleanup();
  }
}

/**
 * The changed files, or undefined (unknown: path filters then hold) when the repository cannot tell, e.g.
 * a `before` commit that a force push removed: a filter must never drop a run it cannot judge.
 */
async function changedSince(mirrors: MirrorStore, url: string, since: string, sha: string): Promise<string[] | undefined> {
  return mirrors.changedFiles(url, since, sha).catch(() => undefined);
}

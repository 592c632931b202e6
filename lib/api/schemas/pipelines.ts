/** Pipelines: request/response schemas and operations. Pipelines are listed and created under their tenant. */
import { z } from 'zod';
import { defineOperation } from '../operation';
import { RUN_STATUSES } from '../../events/types';
import { Id, PageQuery, Slug, Timestamp, pageOf, refusedWith } from './common';
import { TenantParams } from './tenants';
import { SecretName } from './secrets';
import { repositoryUrlProblem } from '../../source/git';

/** Largest KDL source stored with a pipeline. */
export const MAX_CONFIG_BYTES = 256 * 1024;

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

export const PipelineParams = z.object({ pipelineId: Id });

/** A git branch name (the subset of `git check-ref-format` that matters for triggers). */
export const BranchName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?!\/)(?!.*\/\/)(?!.*\.\.)(?!.*\/$)[^\s~^:?*[\\]+$/, 'not a valid git branch name')
  .refine((name) => !hasControlCharacter(name), 'not a valid git branch name');

export const Repository = z
  .string()
  .trim()
  .min(1)
  .max(2000)
  .superRefine(refusedWith(repositoryUrlProblem))
  .meta({ description: 'clone URL of the repository: https://, ssh://, git://, file:// or scp-style user@host:path (no credentials in it)' });
const CloneDepth = z.number().int().min(0).max(1_000_000).meta({ description: 'commits a run fetches (git clone --depth); 0 = the whole history' });
const Submodules = z.boolean().meta({ description: 'whether a run also checks out the submodules, recursively' });
export const CredentialsSecret = SecretName.meta({
  description: 'name of the tenant secret holding the clone credentials: a token (sent as an HTTP Authorization header) or an SSH private key; never the value',
});
const ConfigPath = z
  .string()
  .min(1)
  .max(500)
  .regex(/^(?!\/)(?!.*\.\.)/, 'a relative path inside the repository')
  .refine((path) => !hasControlCharacter(path), 'a path without control characters')
  .meta({ description: 'path of the KDL file inside the repository' });
const Config = z.string().max(MAX_CONFIG_BYTES).meta({ description: 'the pipeline in KDL; validated on save (422 invalid_pipeline with diagnostics)' });

export const CreatePipelineBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    slug: Slug.optional().meta({ description: 'unique in the tenant; derived from the name when omitted' }),
    repository: Repository.nullable().optional(),
    defaultBranch: BranchName.default('main'),
    config: Config.nullable().optional(),
    configPath: ConfigPath.default('buildit.kdl'),
    cloneDepth: CloneDepth.default(1),
    submodules: Submodules.default(false),
    credentialsSecret: CredentialsSecret.nullable().optional(),
  })
  .strict()
  .refine((body) => body.config != null || body.repository != null, {
    message: 'give the pipeline a `config` (KDL) or a `repository` to read it from',
    path: ['config'],
  });

export const UpdatePipelineBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    slug: Slug,
    repository: Repository.nullable(),
    defaultBranch: BranchName,
    config: Config.nullable(),
    configPath: ConfigPath,
    cloneDepth: CloneDepth,
    submodules: Submodules,
    credentialsSecret: CredentialsSecret.nullable(),
  })
  .partial()
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to update: give at least one field' });

const pipelineFields = {
  id: Id,
  tenantId: Id,
  name: z.string(),
  slug: z.string(),
  repository: z.string().nullable(),
  defaultBranch: z.string(),
  configPath: z.string(),
  cloneDepth: z.number().int(),
  submodules: z.boolean(),
  credentialsSecret: z.string().nullable(),
  nextRunNumber: z.number().int(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

/** What a list of pipelines shows of each one's newest run. */
export const LastRun = z
  .object({ id: Id, number: z.number().int(), status: z.enum(RUN_STATUSES), branch: z.string().nullable(), createdAt: Timestamp })
  .meta({ id: 'LastRun' });

export const PipelineSummary = z
  .object({ ...pipelineFields, lastRun: LastRun.nullable().meta({ description: 'the newest run of the pipeline, null before its first run' }) })
  .meta({ id: 'PipelineSummary' });
export type PipelineSummary = z.output<typeof PipelineSummary>;
export const Pipeline = z.object({ ...pipelineFields, config: z.string().nullable() }).meta({ id: 'Pipeline' });
export type Pipeline = z.output<typeof Pipeline>;

export const ListPipelinesQuery = PageQuery.extend({
  q: z.string().trim().max(100).optional().meta({ description: 'only pipelines whose name or slug contains this text (case-insensitive)' }),
});

export const listPipelines = defineOperation({
  operationId: 'listPipelines',
  method: 'GET',
  path: '/api/v1/tenants/{tenantId}/pipelines',
  tag: 'pipelines',
  summary: 'List the pipelines of a tenant',
  auth: 'token',
  params: TenantParams,
  query: ListPipelinesQuery,
  responses: { 200: { description: 'a page of pipelines, newest first (without their config), each with its newest run', schema: pageOf(PipelineSummary) } },
});

export const createPipeline = defineOperation({
  operationId: 'createPipeline',
  method: 'POST',
  path: '/api/v1/tenants/{tenantId}/pipelines',
  tag: 'pipelines',
  summary: 'Create a pipeline in a tenant',
  auth: 'token',
  params: TenantParams,
  body: CreatePipelineBody,
  responses: { 201: { description: 'the new pipeline', schema: Pipeline } },
});

export const getPipeline = defineOperation({
  operationId: 'getPipeline',
  method: 'GET',
  path: '/api/v1/pipelines/{pipelineId}',
  tag: 'pipelines',
  summary: 'Get a pipeline with its config',
  auth: 'token',
  params: PipelineParams,
  responses: { 200: { description: 'the pipeline', schema: Pipeline } },
});

export const updatePipeline = defineOperation({
  operationId: 'updatePipeline',
  method: 'PATCH',
  path: '/api/v1/pipelines/{pipelineId}',
  tag: 'pipelines',
  summary: 'Change some fields of a pipeline',
  auth: 'token',
  params: PipelineParams,
  body: UpdatePipelineBody,
  responses: { 200: { description: 'the updated pipeline', schema: Pipeline } },
});

export const deletePipeline = defineOperation({
  operationId: 'deletePipeline',
  method: 'DELETE',
  path: '/api/v1/pipelines/{pipelineId}',
  tag: 'pipelines',
  summary: 'Delete a pipeline and its finished runs',
  description: 'Refused with 409 `pipeline_busy` while a run is queued or running: cancel it first.',
  auth: 'token',
  params: PipelineParams,
  responses: { 204: { description: 'deleted' } },
});

export const pipelineOperations = [listPipelines, createPipeline, getPipeline, updatePipeline, deletePipeline];

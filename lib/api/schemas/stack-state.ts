/**
 * Terraform's HTTP state backend of a stack (lib/stacks/state/backend.ts, docs/stacks.md). Terraform, not
 * people, calls these, with HTTP Basic auth (a run's credential, or any user name and an API token with the
 * `stacks:apply` scope as the password): that is why they take no Bearer token.
 */
import { z } from 'zod';
import { defineOperation } from '../operation';
import { Id } from './common';

export const StackParams = z.object({ stackId: Id });

const BASIC_AUTH = "HTTP Basic auth: user `run-<stackRunId>` with the run's credential, or any user and an API token (`bk_...`) as the password.";
export const TerraformLockInfo = z
  .looseObject({ ID: z.string(), Operation: z.string().optional(), Who: z.string().optional(), Created: z.string().optional() })
  .meta({ id: 'TerraformLockInfo', description: "Terraform's lock info (statemgr.LockInfo), as terraform sent it" });

export const getStackState = defineOperation({
  operationId: 'getStackState',
  method: 'GET',
  path: '/api/v1/stacks/{stackId}/state',
  tag: 'stacks',
  summary: "Terraform's HTTP backend: the current state",
  description: `${BASIC_AUTH} stack.read. 404 while the stack has no state.`,
  auth: 'none',
  params: StackParams,
  responses: { 200: { description: 'the state document', schema: z.looseObject({ serial: z.number(), lineage: z.string() }) } },
});

export const postStackState = defineOperation({
  operationId: 'postStackState',
  method: 'POST',
  path: '/api/v1/stacks/{stackId}/state',
  tag: 'stacks',
  summary: "Terraform's HTTP backend: write the state (a new state version)",
  description: `${BASIC_AUTH} stack.apply. Needs \`?ID=\` naming the lock the caller holds (409 otherwise) and a Content-MD5 header.`,
  auth: 'none',
  params: StackParams,
  responses: { 200: { description: 'written', schema: z.object({ version: z.number().int(), serial: z.number().int() }) } },
});

export const lockStackState = defineOperation({
  operationId: 'lockStackState',
  method: 'POST',
  path: '/api/v1/stacks/{stackId}/state/lock',
  tag: 'stacks',
  summary: "Terraform's HTTP backend: LOCK (the web server routes the LOCK method here)",
  description: `${BASIC_AUTH} stack.apply. Body: terraform's lock info.`,
  auth: 'none',
  params: StackParams,
  responses: {
    200: { description: 'locked', schema: TerraformLockInfo },
    423: { description: "already locked: the holder's lock info", schema: TerraformLockInfo },
  },
});

export const unlockStackState = defineOperation({
  operationId: 'unlockStackState',
  method: 'POST',
  path: '/api/v1/stacks/{stackId}/state/unlock',
  tag: 'stacks',
  summary: "Terraform's HTTP backend: UNLOCK (the web server routes the UNLOCK method here)",
  description: `${BASIC_AUTH} stack.apply. Body: the holder's lock info; an empty body force-unlocks (people only, audited).`,
  auth: 'none',
  params: StackParams,
  responses: {
    200: { description: 'unlocked (or nothing was locked)', schema: z.object({ unlocked: z.boolean() }) },
    423: { description: "locked by another lock: the holder's lock info", schema: TerraformLockInfo },
  },
});

export const stackStateOperations = [getStackState, postStackState, lockStackState, unlockStackState];

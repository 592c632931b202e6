/**
 * Tenant secrets: request/response schemas and operations. A value goes in with PUT and never comes out:
 * the listing shows names, who set them and when.
 */
import { z } from 'zod';
import { ENV_NAME, RESERVED_ENV_PREFIX } from '../../pipeline/script-env';
import { defineOperation } from '../operation';
import { Id, PageQuery, Timestamp, pageOf } from './common';
import { TenantParams } from './tenants';

/** Largest secret value, in bytes of UTF-8. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** What a pipeline's `secret "NAME"` accepts (secrets become environment variables of the stage). */
export const SecretName = z
  .string()
  .max(255)
  .regex(ENV_NAME, 'a secret name is letters, digits and `_`, not starting with a digit')
  .refine((name) => !name.startsWith(RESERVED_ENV_PREFIX), `names starting with ${RESERVED_ENV_PREFIX} are reserved for BuildIt's own variables`)
  .meta({ description: `letters, digits and \`_\`, not starting with a digit or with ${RESERVED_ENV_PREFIX}`, example: 'NPM_TOKEN' });

/** Any name in a path: PUT checks it with SecretName (422), DELETE of a name that cannot exist is a 404. */
export const SecretParams = z.object({
  tenantId: Id,
  name: z.string().min(1).max(255).meta({ description: 'the secret name (see SecretName)', example: 'NPM_TOKEN' }),
});

export const SetSecretBody = z
  .object({
    value: z
      .string()
      .min(1, 'a secret value cannot be empty')
      .refine((value) => Buffer.byteLength(value, 'utf8') <= MAX_SECRET_BYTES, `a secret value is at most ${MAX_SECRET_BYTES} bytes (64 KiB)`)
      // A stage gets the value as an environment variable, which cannot hold a NUL character.
      .refine((value) => !value.includes('\0'), 'a secret value cannot contain a NUL character')
      .meta({ description: 'the value (UTF-8, 1 byte to 64 KiB); write-only: no response ever contains it' }),
  })
  .strict();

const SecretAuthor = z
  .object({ id: Id, email: z.string() })
  .nullable()
  .meta({ description: 'the user; null when a service token set it or the user was deleted (the audit log has who)' });

export const Secret = z
  .object({
    name: z.string(),
    tenantId: Id,
    createdAt: Timestamp,
    createdBy: SecretAuthor,
    updatedAt: Timestamp.meta({ description: 'when the value was last set' }),
    updatedBy: SecretAuthor,
  })
  .meta({ id: 'Secret' });
export type Secret = z.output<typeof Secret>;

export const listSecrets = defineOperation({
  operationId: 'listSecrets',
  method: 'GET',
  path: '/api/v1/tenants/{tenantId}/secrets',
  tag: 'secrets',
  summary: 'List the secrets of a tenant (names, who set them and when; never values)',
  auth: 'token',
  params: TenantParams,
  query: PageQuery,
  responses: { 200: { description: 'a page of secrets, newest first', schema: pageOf(Secret) } },
});

export const setSecret = defineOperation({
  operationId: 'setSecret',
  method: 'PUT',
  path: '/api/v1/tenants/{tenantId}/secrets/{name}',
  tag: 'secrets',
  summary: 'Create or replace a secret',
  description: 'The value is encrypted at rest (AES-256-GCM) and only ever given to the stages of a run that declare the secret.',
  auth: 'token',
  params: SecretParams,
  body: SetSecretBody,
  responses: {
    200: { description: 'the secret existed; its value was replaced', schema: Secret },
    201: { description: 'the secret was created', schema: Secret },
  },
});

export const deleteSecret = defineOperation({
  operationId: 'deleteSecret',
  method: 'DELETE',
  path: '/api/v1/tenants/{tenantId}/secrets/{name}',
  tag: 'secrets',
  summary: 'Delete a secret',
  description: 'Runs that declare it fail the stages that need it, naming the secret.',
  auth: 'token',
  params: SecretParams,
  responses: { 204: { description: 'deleted' } },
});

export const secretOperations = [listSecrets, setSecret, deleteSecret];

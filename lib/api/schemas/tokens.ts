/** API tokens: request/response schemas and operations. */
import { z } from 'zod';
import { SCOPES } from '../../auth/authorize';
import { defineOperation } from '../operation';
import { Id, PageQuery, Timestamp, pageOf } from './common';

/** A personal token acts for its user; a service token belongs to the organization (lib/api/README.md). */
export const TOKEN_KINDS = ['personal', 'service'] as const;

export const TokenParams = z.object({ tokenId: Id });

export const CreateTokenBody = z
  .object({
    name: z.string().trim().min(1).max(100).meta({ description: 'what the token is for, e.g. `deploy from CI`' }),
    kind: z.enum(TOKEN_KINDS).default('personal').meta({ description: '`service`: an organization token with no user (organization admins)' }),
    scopes: z
      .array(z.enum(SCOPES))
      .min(1, 'choose at least one scope')
      .refine((scopes) => new Set(scopes).size === scopes.length, { message: 'each scope once' })
      .meta({ description: 'what the token may do; never more than its creator may (403 otherwise)' }),
    tenantId: Id.nullable().optional().meta({ description: 'restrict the token to this tenant' }),
    expiresAt: Timestamp.nullable().optional().meta({ description: 'when the token stops working; never when omitted' }),
  })
  .strict();

export const Token = z
  .object({
    id: Id,
    name: z.string(),
    kind: z.enum(TOKEN_KINDS),
    prefix: z.string().meta({ description: 'the first characters of the token, to recognize it' }),
    userId: Id.nullable().meta({ description: 'the owner of a personal token; null for a service token' }),
    tenantId: Id.nullable().meta({ description: 'the one tenant the token is restricted to, or null' }),
    scopes: z.array(z.enum(SCOPES)),
    expiresAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable(),
    lastUsedIp: z.string().nullable().meta({ description: 'client address of the last use, as reported by the proxy in front' }),
    revokedAt: Timestamp.nullable(),
    createdAt: Timestamp,
  })
  .meta({ id: 'Token' });
export type Token = z.output<typeof Token>;

export const CreatedToken = Token.extend({
  token: z.string().meta({ description: 'the token itself: shown this once and stored only as a hash, so copy it now' }),
}).meta({ id: 'CreatedToken' });
export type CreatedToken = z.output<typeof CreatedToken>;

export const listTokens = defineOperation({
  operationId: 'listTokens',
  method: 'GET',
  path: '/api/v1/tokens',
  tag: 'tokens',
  summary: "List the caller's tokens (and, for organization admins, the organization's service tokens)",
  description: 'Revoked and expired tokens are listed too: see revokedAt and expiresAt.',
  auth: 'token',
  query: PageQuery,
  responses: { 200: { description: 'a page of tokens, newest first', schema: pageOf(Token) } },
});

export const createToken = defineOperation({
  operationId: 'createToken',
  method: 'POST',
  path: '/api/v1/tokens',
  tag: 'tokens',
  summary: 'Create a personal or service token; the answer holds the token, shown only this once',
  description:
    'A token never has more rights than its creator: each scope must allow something the creator may do (with the token the creator uses, ' +
    'in the tenant the new token is restricted to), else 403. A token restricted to a tenant creates tokens restricted to the same tenant.',
  auth: 'token',
  body: CreateTokenBody,
  responses: { 201: { description: 'the new token, with the token itself', schema: CreatedToken } },
});

export const revokeToken = defineOperation({
  operationId: 'revokeToken',
  method: 'POST',
  path: '/api/v1/tokens/{tokenId}/revoke',
  tag: 'tokens',
  summary: 'Revoke a token: it answers 401 from now on',
  description:
    'Your own personal tokens, or (organization admins) a service token. The token you revoke with must hold every scope of the one you revoke. ' +
    '409 `token_revoked` when it already is.',
  auth: 'token',
  params: TokenParams,
  responses: { 200: { description: 'the revoked token', schema: Token } },
});

export const tokenOperations = [listTokens, createToken, revokeToken];

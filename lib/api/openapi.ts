/**
 * The OpenAPI 3.1 document of /api/v1, generated from the same operation objects (and zod schemas)
 * that the route handlers validate with. OpenAPI 3.1 uses JSON Schema 2020-12, zod 4's default target.
 */
import { z } from 'zod';
import type { Operation } from './operation';
import { ErrorBody, operations } from './schemas';

type JsonSchema = Record<string, unknown>;

const ERROR_RESPONSES: Record<number, string> = {
  400: 'bad request: invalid JSON, query parameters or cursor',
  401: 'missing, invalid, expired or revoked API token',
  403: 'the token or role does not allow this',
  404: 'no such resource (or not visible to the caller)',
  409: 'conflict with the current state',
  413: 'request body larger than 1 MiB',
  415: 'the request body is not sent as JSON (Content-Type: application/json)',
  422: 'the request is well-formed but not valid (validation_failed, invalid_pipeline, not_triggered, plan_failed)',
  500: 'internal error',
};

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline', target: 'draft-2020-12' }) as JsonSchema;
  delete json.$schema;
  return json;
}

/**
 * The JSON Schema of a zod schema for the document, its named (`.meta({ id })`) parts moved into
 * `components` and referenced from there. zod puts every named schema in `$defs`, the root too when it
 * is named (answering only a `$ref` to it), so a named root comes back as a `$ref` to its component and
 * the component is its real schema, never a `$ref` to itself.
 */
function documentSchema(schema: z.ZodType, io: 'input' | 'output', components: Record<string, JsonSchema>): JsonSchema {
  const { $defs, ...json } = toSchema(schema, io);
  for (const [name, def] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) components[name] = rewriteRefs(def) as JsonSchema;
  return rewriteRefs(json) as JsonSchema;
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = key === '$ref' && typeof v === 'string' ? v.replace(/^#\/\$defs\//, '#/components/schemas/') : rewriteRefs(v);
    }
    return out;
  }
  return value;
}

function objectProperties(schema: z.ZodType, io: 'input' | 'output'): Array<{ name: string; schema: JsonSchema; required: boolean }> {
  const json = toSchema(schema, io);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, s]) => ({ name, schema: s, required: required.has(name) }));
}

function operationObject(op: Operation, errorSchema: JsonSchema, components: Record<string, JsonSchema>): Record<string, unknown> {
  const parameters = [
    ...(op.params ? objectProperties(op.params, 'input').map((p) => ({ name: p.name, in: 'path', required: true, schema: p.schema })) : []),
    ...(op.query
      ? objectProperties(op.query, 'input').map((p) => {
          const { description, ...schema } = p.schema;
          return { name: p.name, in: 'query', required: p.required, schema, ...(typeof description === 'string' ? { description } : {}) };
        })
      : []),
  ];
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(op.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.schema
        ? { content: { [response.contentType ?? 'application/json']: { schema: documentSchema(response.schema, 'output', components) } } }
        : {}),
    };
  }
  for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
    const code = Number(status);
    if (responses[status]) continue;
    if (op.auth === 'none' && (code === 401 || code === 403)) continue;
    if (!op.body && (code === 413 || code === 415)) continue;
    responses[status] = { description, content: { 'application/json': { schema: errorSchema } } };
  }
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    ...(op.auth === 'none' ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: documentSchema(op.body, 'input', components) } } } } : {}),
    responses,
  };
}

export function buildOpenApiDocument(ops: readonly Operation[] = operations): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  const errorSchema = documentSchema(ErrorBody, 'output', components);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of ops) {
    paths[op.path] ??= {};
    paths[op.path]![op.method.toLowerCase()] = operationObject(op, errorSchema, components);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'BuildIt API',
      version: '1',
      description:
        'REST API of BuildIt. Authenticate with `Authorization: Bearer <API token>`. Errors are `{"error": {"code", "message", "details"}}`. Lists are keyset-paginated: pass `nextCursor` back as `cursor`.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: 'organizations', description: 'Organizations of the caller, their members and invitations.' },
      { name: 'tenants', description: 'Tenants of the organization: each holds pipelines and the members who may use them.' },
      { name: 'pipelines', description: 'Pipelines (KDL) of a tenant.' },
      { name: 'runs', description: 'Runs of a pipeline, their stages and logs.' },
      { name: 'meta', description: 'About the API itself.' },
    ],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'API token (`bk_...`)' } },
      schemas: components,
    },
  };
}

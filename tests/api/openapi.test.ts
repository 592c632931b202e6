/** The OpenAPI document covers every route file under app/api/v1, method by method, and is well-formed. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import * as openapiRoute from '../../app/api/v1/openapi.json/route';
import { buildOpenApiDocument } from '../../lib/api/openapi';
import { call, expectStatus } from './helpers';

const root = path.resolve(import.meta.dirname, '../..');
const apiDir = path.join(root, 'app/api/v1');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

function routeFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return routeFiles(full);
    return entry.name === 'route.ts' ? [full] : [];
  });
}

/** `app/api/v1/pipelines/[pipelineId]/runs/route.ts` → `/api/v1/pipelines/{pipelineId}/runs`. */
function openApiPath(file: string): string {
  const relative = path.relative(path.join(root, 'app'), path.dirname(file)).split(path.sep);
  return '/' + relative.map((segment) => segment.replace(/^\[(\w+)\]$/, '{$1}')).join('/');
}

interface Doc {
  openapi: string;
  paths: Record<
    string,
    Record<string, { operationId: string; parameters?: Array<{ name: string; in: string }>; responses: Record<string, unknown>; requestBody?: unknown }>
  >;
  components: { schemas: Record<string, unknown> };
}

test('served at GET /api/v1/openapi.json without a token', async () => {
  const result = await call(openapiRoute.GET, 'GET', '/api/v1/openapi.json');
  expectStatus(result, 200);
  assert.equal((result.body as Doc).openapi, '3.1.0');
});

test('every route file and exported method under app/api/v1 is in the document, and nothing else', async () => {
  const doc = buildOpenApiDocument() as unknown as Doc;
  const files = routeFiles(apiDir);
  assert.ok(files.length >= 9, `found ${files.length} route files`);
  const fromFiles = new Set<string>();
  for (const file of files) {
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const exported = METHODS.filter((method) => typeof mod[method] === 'function');
    assert.ok(exported.length > 0, `${file} exports no HTTP method`);
    for (const method of exported) fromFiles.add(`${method} ${openApiPath(file)}`);
  }
  const fromDoc = new Set(Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)));
  assert.deepEqual([...fromFiles].sort(), [...fromDoc].sort());
});

test('path parameters match the template; every $ref resolves; operation ids are unique', () => {
  const doc = buildOpenApiDocument() as unknown as Doc;
  const ids = new Set<string>();
  for (const [p, ops] of Object.entries(doc.paths)) {
    const templateParams = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [method, op] of Object.entries(ops)) {
      const pathParams = (op.parameters ?? [])
        .filter((param) => param.in === 'path')
        .map((param) => param.name)
        .sort();
      assert.deepEqual(pathParams, templateParams, `${method} ${p}`);
      assert.ok(!ids.has(op.operationId), op.operationId);
      ids.add(op.operationId);
      assert.ok(
        Object.keys(op.responses).some((status) => status.startsWith('2')),
        `${method} ${p} documents a success`,
      );
    }
  }
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(refs.length > 0);
  for (const ref of refs) {
    assert.match(ref, /^#\/components\/schemas\//);
    assert.ok(ref.slice('#/components/schemas/'.length) in doc.components.schemas, `unresolved ${ref}`);
  }
  assert.ok(!JSON.stringify(doc).includes('$defs'));
});

test('request bodies come from the same zod schemas the handlers validate with', () => {
  const doc = buildOpenApiDocument() as unknown as Doc;
  const body = JSON.stringify(doc.paths['/api/v1/pipelines/{pipelineId}/runs']!.post!.requestBody);
  for (const field of ['event', 'branch', 'sha', 'variables']) assert.ok(body.includes(`"${field}"`), field);
  assert.ok(body.includes('"manual"'));
  const query = doc.paths['/api/v1/pipelines/{pipelineId}/runs']!.get!.parameters!.map((p) => `${p.in}:${p.name}`).sort();
  assert.deepEqual(query, ['path:pipelineId', 'query:branch', 'query:cursor', 'query:limit', 'query:status']);
});

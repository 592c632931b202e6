/**
 * Real OpenAPI tools accept the document served at /api/v1/openapi.json, offline from node_modules:
 * - every shared schema is a real schema in `components.schemas` (a component that is only a `$ref` to
 *   itself crashed openapi-typescript with "Self-referencing circular pointer");
 * - openapi-typescript generates a typed client, whose types the TypeScript compiler proves equal to the
 *   zod types the handlers validate with and the remote CLI calls the API with;
 * - Redocly's linter with its recommended rules reports nothing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { z } from 'zod';
import * as openapiRoute from '../../app/api/v1/openapi.json/route';
import { buildOpenApiDocument } from '../../lib/api/openapi';
import * as schemas from '../../lib/api/schemas';
import { call, expectStatus } from './helpers';

const root = path.resolve(import.meta.dirname, '../..');
const COMPONENTS = [
  'AuditEntry',
  'ChangeSummary',
  'CreatedToken',
  'Environment',
  'Error',
  'Invitation',
  'LastRun',
  'LogChunk',
  'LogPage',
  'Member',
  'Organization',
  'Pipeline',
  'PipelineSummary',
  'PlanView',
  'Run',
  'RunSummary',
  'Secret',
  'Stack',
  'StackOutput',
  'StackRun',
  'StackRunSummary',
  'StackSummary',
  'StackVariable',
  'StageRun',
  'StateLock',
  'StateVersion',
  'StateVersionSummary',
  'Tenant',
  'TenantMember',
  'TerraformLockInfo',
  'Token',
  'UserOrganization',
];

interface Doc {
  components: { schemas: Record<string, Record<string, unknown>> };
}

let dir: string;
let documentFile: string;
let document: Doc;

before(async () => {
  const served = await call(openapiRoute.GET, 'GET', '/api/v1/openapi.json');
  expectStatus(served, 200);
  document = served.body as Doc;
  // Under node_modules so that the type check below resolves `zod` like the project does.
  mkdirSync(path.join(root, 'node_modules/.cache'), { recursive: true });
  dir = mkdtempSync(path.join(root, 'node_modules/.cache/buildit-openapi-'));
  documentFile = path.join(dir, 'openapi.json');
  writeFileSync(documentFile, served.text);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the route serves the document buildOpenApiDocument() builds', () => {
  assert.deepEqual(document, JSON.parse(JSON.stringify(buildOpenApiDocument())));
});

test('every shared schema is a real schema in components, never a $ref to itself or to another component', () => {
  assert.deepEqual(Object.keys(document.components.schemas).sort(), COMPONENTS);
  for (const [name, schema] of Object.entries(document.components.schemas)) {
    assert.equal(schema.$ref, undefined, `components.schemas.${name} is only a reference (${String(schema.$ref)}), not a schema`);
    assert.equal(schema.type, 'object', `components.schemas.${name}`);
  }
});

/** The name under which lib/api/schemas exports a value (a zod schema or an operation). */
function exportName(matches: (value: unknown) => boolean): string {
  const found = Object.entries(schemas).find(([, value]) => matches(value));
  assert.ok(found, 'not exported by lib/api/schemas');
  return found[0];
}

/**
 * A TypeScript file that compiles only when the generated types equal the zod types: each component
 * against the zod schema with that id, each request body against z.input and each response against
 * z.output of the operation's schema.
 */
function typeChecks(): string {
  const checks = COMPONENTS.map((id) => {
    const name = exportName((value) => value instanceof z.ZodType && (z.globalRegistry.get(value) as { id?: string } | undefined)?.id === id);
    return `const component_${id}: Same<components['schemas']['${id}'], z.output<typeof api.${name}>> = true;`;
  });
  for (const operation of schemas.operations) {
    const name = exportName((value) => value === operation);
    const id = operation.operationId;
    if (operation.body)
      checks.push(`const body_${id}: Same<JsonOf<operations['${id}']['requestBody']>, z.input<NonNullable<(typeof api.${name})['body']>>> = true;`);
    for (const [status, response] of Object.entries(operation.responses)) {
      if (!response.schema) continue;
      checks.push(
        `const response_${id}_${status}: Same<JsonOf<operations['${id}']['responses'][${status}]>, z.output<(typeof api.${name})['responses'][${status}]['schema']>> = true;`,
      );
    }
  }
  return [
    `import type { z } from 'zod';`,
    `import type * as api from ${JSON.stringify(path.join(root, 'lib/api/schemas'))};`,
    `import type { components, operations } from './openapi';`,
    '/** true when each type is assignable to the other. */',
    'type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;',
    // A body is JSON, or text for the few text/plain answers (a raw log).
    `type JsonOf<T> = T extends { content: { 'application/json': infer J } } ? J : T extends { content: { 'text/plain': infer S } } ? S : never;`,
    ...checks,
    '',
  ].join('\n');
}

test('openapi-typescript generates a typed client whose types are the zod types of the API', async () => {
  const types = astToString(await openapiTS(pathToFileURL(documentFile), { silent: true }));
  for (const name of [...COMPONENTS, 'triggerRun']) assert.match(types, new RegExp(`^ +${name}: \\{$`, 'm'), name);
  writeFileSync(path.join(dir, 'openapi.ts'), types);

  const checkFile = path.join(dir, 'check.ts');
  writeFileSync(checkFile, typeChecks());
  const program = ts.createProgram([checkFile], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  });
  const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.text.slice(diagnostic.start).split('\n', 1)[0] : '';
    return `${where}\n  ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ')}`;
  });
  assert.deepEqual(problems, []);
});

test('Redocly lint with the recommended rules: no errors, no warnings', async () => {
  const redocly = path.join(root, 'node_modules/.bin/redocly');
  // Exit code 1 when a problem is found: the JSON report is on stdout either way.
  const { stdout } = await promisify(execFile)(redocly, ['lint', '--extends', 'recommended', '--format', 'json', documentFile], {
    cwd: dir,
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  }).catch((error: { stdout?: string; stderr?: string }) => {
    assert.ok(error.stdout, `redocly failed: ${error.stderr}`);
    return { stdout: error.stdout };
  });
  const report = JSON.parse(stdout) as {
    totals: { errors: number; warnings: number };
    problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }>;
  };
  const problems = report.problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer}: ${p.message}`);
  assert.deepEqual(problems, []);
  assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 });
});

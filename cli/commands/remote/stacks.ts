/**
 * `buildit stacks list|create|show|plan|apply|approve|unlock` and `buildit stacks state list|show|rollback`
 * (docs/stacks.md). `plan STACK [DIR]` and `apply STACK [DIR]` upload DIR (a .tar.gz of it, without
 * `.terraform`) as the run's configuration, as Terraform Cloud's CLI-driven runs do, and follow the run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import type { StackRun } from '../../../lib/api/schemas';
import { MAX_CONFIG_ARCHIVE_BYTES } from '../../../lib/api/schemas/stack-runs';
import { UsageError } from '../../errors';
import { EXIT_FAILED, EXIT_SUCCEEDED } from '../../exit-codes';
import { printJson, printTable, remote, resolveTenant, type JsonOption, type Remote } from '../../remote/command';
import { ApiError } from '../../remote/errors';
import { followStackRun } from '../../remote/follow-stack-run';
import type { TenantOption } from './pipelines';

const ID = /^[a-z0-9]{20,40}$/;

export interface CreateStackOptions extends TenantOption {
  name: string;
  repository?: string;
  ref?: string;
  path?: string;
  environment?: string;
  autoApply?: boolean;
  driftSchedule?: string;
  terraform?: string;
  terraformVersion?: string;
}

/** A stack by id, or by slug (`SLUG` when unique among the visible tenants, or `TENANT/SLUG`). */
async function resolveStackId(context: Remote, ref: string): Promise<string> {
  if (ID.test(ref)) return ref;
  const [tenantRef, slug] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [undefined, ref];
  const tenants = tenantRef !== undefined ? [await resolveTenant(context, tenantRef)] : await context.api.listTenants();
  const matches = [];
  for (const tenant of tenants) matches.push(...(await context.api.listStacks(tenant.id)).filter((stack) => stack.slug === slug));
  if (matches.length === 0) throw new ApiError('not_found', `stack "${ref}" not found`, 404);
  if (matches.length > 1) throw new UsageError(`stack "${ref}" is ambiguous: use TENANT/${slug} or its id`);
  return matches[0]!.id;
}

function packDirectory(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory`);
  const archive = execFileSync('tar', ['-czf', '-', '-C', dir, '--exclude=.terraform', '--exclude=*.tfstate', '--exclude=*.tfstate.backup', '.'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (archive.byteLength > MAX_CONFIG_ARCHIVE_BYTES) {
    throw new UsageError(
      `${dir} packs to ${archive.byteLength} bytes: an uploaded configuration is at most ${MAX_CONFIG_ARCHIVE_BYTES} bytes (use a repository)`,
    );
  }
  return archive.toString('base64');
}

const summaryLine = (run: StackRun) =>
  run.changeSummary
    ? `${run.changeSummary.add} to add, ${run.changeSummary.change} to change, ${run.changeSummary.destroy} to destroy, ${run.changeSummary.replace} to replace`
    : 'no plan';

export async function list(options: TenantOption): Promise<void> {
  const context = remote();
  const tenant = await resolveTenant(context, options.tenant);
  const stacks = await context.api.listStacks(tenant.id);
  if (options.json) return printJson(stacks);
  printTable(
    ['SLUG', 'LAST RUN', 'DRIFTED', 'LOCKED BY', 'ID'],
    stacks.map((s) => [
      s.slug,
      s.lastRun ? `#${s.lastRun.number} ${s.lastRun.kind} ${s.lastRun.status}` : '-',
      s.drifted ? 'yes' : 'no',
      s.lock ? (s.lock.heldBy.kind === 'run' ? `run ${s.lock.heldBy.runId}` : (s.lock.heldBy.email ?? s.lock.who ?? 'someone')) : '-',
      s.id,
    ]),
  );
}

export async function create(options: CreateStackOptions): Promise<void> {
  const context = remote();
  const tenant = await resolveTenant(context, options.tenant);
  const stack = await context.api.createStack(tenant.id, {
    name: options.name,
    ...(options.repository !== undefined ? { repository: options.repository } : {}),
    ...(options.ref !== undefined ? { ref: options.ref } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
    ...(options.environment !== undefined ? { environment: options.environment } : {}),
    ...(options.driftSchedule !== undefined ? { driftSchedule: options.driftSchedule } : {}),
    ...(options.terraform !== undefined ? { terraformBinary: options.terraform } : {}),
    ...(options.terraformVersion !== undefined ? { terraformVersion: options.terraformVersion } : {}),
    autoApply: Boolean(options.autoApply),
  });
  if (options.json) return printJson(stack);
  process.stdout.write(`Created stack ${stack.slug} (${stack.id}) in tenant ${tenant.slug}.\n`);
}

function terraformSetting(stack: { terraformBinary: string | null; terraformVersion: string | null }): string {
  if (stack.terraformVersion === null) return stack.terraformBinary ?? "the worker's default";
  return `${stack.terraformBinary ?? "any of the worker's binaries"}, version ${stack.terraformVersion}`;
}

export async function show(ref: string, options: JsonOption): Promise<void> {
  const context = remote();
  const stack = await context.api.getStack(await resolveStackId(context, ref));
  if (options.json) return printJson(stack);
  const lines = [
    `${stack.name} (${stack.slug}, ${stack.id})`,
    `source: ${stack.repository ? `${stack.repository} ${stack.ref} ${stack.path}` : 'uploaded by the CLI'}`,
    `terraform: ${terraformSetting(stack)}`,
    `auto-apply: ${stack.autoApply ? 'yes' : 'no'}   drift: ${stack.drifted ? 'DRIFTED' : 'no'}${stack.driftSchedule ? ` (checked ${stack.driftSchedule})` : ''}`,
    `state version: ${stack.stateVersion}${stack.lock ? `   locked by ${stack.lock.heldBy.kind === 'run' ? `run ${stack.lock.heldBy.runId}` : (stack.lock.heldBy.email ?? stack.lock.who)} (${stack.lock.operation ?? '?'})` : ''}`,
    ...(stack.lastRun ? [`last run: #${stack.lastRun.number} ${stack.lastRun.kind} ${stack.lastRun.status} (${stack.lastRun.id})`] : []),
    'outputs:',
    ...Object.entries(stack.outputs).map(([name, output]) => `  ${name} = ${output.sensitive ? '(sensitive)' : JSON.stringify(output.value)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Queues a run (uploading DIR when given), follows it; exit 0 unless it errored or was cancelled. */
async function queueAndFollow(kind: 'plan' | 'apply', ref: string, dir: string | undefined, options: JsonOption): Promise<number> {
  const context = remote();
  const stackId = await resolveStackId(context, ref);
  const run = await context.api.createStackRun(stackId, { kind, ...(dir !== undefined ? { configuration: packDirectory(dir) } : {}) });
  if (!options.json) process.stderr.write(`Queued ${kind} run #${run.number} (${run.id}).\n`);
  const ended = await followStackRun(context.api, run, options.json ? { out: process.stderr } : {});
  if (options.json) printJson(ended);
  else {
    process.stderr.write(`Run #${ended.number}: ${ended.status}${ended.reason ? ` (${ended.reason})` : ''}; ${summaryLine(ended)}.\n`);
    if (ended.status === 'planned' && kind === 'apply') process.stderr.write(`Approve it with: buildit stacks approve ${ended.id}\n`);
  }
  return ended.status === 'errored' || ended.status === 'cancelled' ? EXIT_FAILED : EXIT_SUCCEEDED;
}

export const plan = (ref: string, dir: string | undefined, options: JsonOption) => queueAndFollow('plan', ref, dir, options);
export const apply = (ref: string, dir: string | undefined, options: JsonOption) => queueAndFollow('apply', ref, dir, options);

export async function approve(runId: string, options: JsonOption): Promise<number> {
  const context = remote();
  const run = await context.api.approveStackRun(runId);
  if (!options.json) process.stderr.write(`Approved run #${run.number}; applying.\n`);
  const ended = await followStackRun(context.api, run, options.json ? { out: process.stderr } : {});
  if (options.json) printJson(ended);
  else process.stderr.write(`Run #${ended.number}: ${ended.status}${ended.reason ? ` (${ended.reason})` : ''}.\n`);
  return ended.status === 'applied' ? EXIT_SUCCEEDED : EXIT_FAILED;
}

export async function unlock(ref: string, options: JsonOption): Promise<void> {
  const context = remote();
  const result = await context.api.forceUnlockStack(await resolveStackId(context, ref));
  if (options.json) return printJson(result);
  process.stdout.write(
    result.unlocked ? `Unlocked (lock ${result.unlocked.id}${result.unlocked.who ? ` of ${result.unlocked.who}` : ''}).\n` : 'The state was not locked.\n',
  );
}

export async function stateList(ref: string, options: JsonOption): Promise<void> {
  const context = remote();
  const versions = await context.api.listStateVersions(await resolveStackId(context, ref));
  if (options.json) return printJson(versions);
  printTable(
    ['VERSION', 'SERIAL', 'WRITTEN BY', 'CREATED', 'ID'],
    versions.map((v) => [
      String(v.number) + (v.rollbackOf !== null ? ` (rollback to ${v.rollbackOf})` : ''),
      String(v.serial),
      v.runId ? `run ${v.runId}` : (v.createdBy?.email ?? '-'),
      v.createdAt,
      v.id,
    ]),
  );
}

export async function stateShow(versionId: string, options: JsonOption): Promise<void> {
  const context = remote();
  const version = await context.api.getStateVersion(versionId);
  if (options.json) return printJson(version);
  const lines = [
    `version ${version.number} (serial ${version.serial}, lineage ${version.lineage})`,
    'resources:',
    ...version.resources.map((r) => `  ${r.address}${r.instances > 1 ? ` (${r.instances} instances)` : ''}`),
    'outputs:',
    ...Object.entries(version.outputs).map(([name, output]) => `  ${name} = ${output.sensitive ? '(sensitive)' : JSON.stringify(output.value)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function stateRollback(versionId: string, options: JsonOption): Promise<void> {
  const context = remote();
  const version = await context.api.rollbackStateVersion(versionId);
  if (options.json) return printJson(version);
  process.stdout.write(`Wrote version ${version.number}: the state of version ${version.rollbackOf ?? '?'} again.\n`);
}

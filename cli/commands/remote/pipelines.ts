/**
 * `buildit pipelines list [--tenant T]`, `buildit pipelines create -f FILE [--tenant T] [--name N] [--slug S]`,
 * `buildit pipelines show PIPELINE`. PIPELINE is an id, a slug, or TENANT/SLUG.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PipelineSummary } from '../../../lib/api/schemas';
import { decodePipelineFile, formatDiagnostic, loadPipeline } from '../../../lib/pipeline/index';
import { UsageError } from '../../errors';
import { printJson, printTable, remote, resolvePipelineId, resolveTenant, type JsonOption } from '../../remote/command';

export interface TenantOption extends JsonOption {
  tenant?: string;
}

export interface CreateOptions extends TenantOption {
  file: string;
  name?: string;
  slug?: string;
}

export async function list(options: TenantOption): Promise<void> {
  const context = remote();
  const tenants = options.tenant !== undefined ? [await resolveTenant(context, options.tenant)] : await context.api.listTenants();
  const rows: Array<PipelineSummary & { tenant: string }> = [];
  for (const tenant of tenants) rows.push(...(await context.api.listPipelines(tenant.id)).map((p) => ({ ...p, tenant: tenant.slug })));
  if (options.json) {
    printJson(rows);
    return;
  }
  if (rows.length === 0) {
    process.stderr.write('no pipelines\n');
    return;
  }
  printTable(
    ['ID', 'TENANT', 'SLUG', 'NAME', 'RUNS'],
    rows.map((p) => [p.id, p.tenant, p.slug, p.name, String(p.nextRunNumber - 1)]),
  );
}

export async function create(options: CreateOptions): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(options.file);
  } catch (error) {
    throw new UsageError(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  const decoded = decodePipelineFile(bytes, options.file);
  if ('diagnostic' in decoded) throw new UsageError(formatDiagnostic(decoded.diagnostic));
  const config = decoded.text;
  // The server validates too (and reports every diagnostic); the local parse only names the pipeline.
  const name = options.name ?? loadPipeline(config, options.file).spec?.name ?? path.basename(options.file).replace(/\.kdl$/, '');
  const context = remote();
  const tenant = await resolveTenant(context, options.tenant);
  const created = await context.api.createPipeline(tenant.id, {
    name,
    config,
    configPath: path.basename(options.file),
    ...(options.slug !== undefined ? { slug: options.slug } : {}),
  });
  if (options.json) printJson(created);
  else process.stdout.write(`Created pipeline ${tenant.slug}/${created.slug} (${created.id}).\n`);
}

export async function show(ref: string, options: JsonOption): Promise<void> {
  const context = remote();
  const pipeline = await context.api.getPipeline(await resolvePipelineId(context, ref));
  if (options.json) {
    printJson(pipeline);
    return;
  }
  process.stdout.write(
    [
      `Pipeline ${pipeline.name} (${pipeline.slug})`,
      `  id:             ${pipeline.id}`,
      `  tenant:         ${pipeline.tenantId}`,
      `  repository:     ${pipeline.repository ?? '-'}`,
      `  default branch: ${pipeline.defaultBranch}`,
      `  runs:           ${pipeline.nextRunNumber - 1}`,
      '',
    ].join('\n'),
  );
  if (pipeline.config !== null) process.stdout.write(`${pipeline.config.endsWith('\n') ? pipeline.config : `${pipeline.config}\n`}`);
}

/**
 * `buildit pipelines list [--tenant T]`, `buildit pipelines create -f FILE [--tenant T] [--name N] [--slug S]`,
 * `buildit pipelines show PIPELINE`. PIPELINE is an id, a slug, or TENANT/SLUG.
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PipelineSummary } from '../../../lib/api/schemas';
import { loadPipeline } from '../../../lib/pipeline/index';
import { action, printJson, printTable, remote, resolvePipelineId, resolveTenant, type JsonOption } from '../../remote/command';
import { UsageError } from '../../remote/errors';

interface TenantOption extends JsonOption {
  tenant?: string;
}

interface CreateOptions extends TenantOption {
  file: string;
  name?: string;
  slug?: string;
}

export function register(program: Command): void {
  const pipelines = program.command('pipelines').description('pipelines stored on a BuildIt server');

  pipelines
    .command('list')
    .description('list pipelines (of one tenant, or of every tenant the token sees)')
    .option('--tenant <tenant>', 'tenant id or slug')
    .option('--json', 'print JSON')
    .action(
      action(async (options: TenantOption) => {
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
      }),
    );

  pipelines
    .command('create')
    .description('create a pipeline from a KDL file (validated by the server)')
    .requiredOption('-f, --file <file>', 'the pipeline file (KDL)')
    .option('--tenant <tenant>', 'tenant id or slug (default: login --tenant, or the only tenant)')
    .option('--name <name>', 'pipeline name (default: the name in the file)')
    .option('--slug <slug>', 'unique slug in the tenant (default: derived from the name)')
    .option('--json', 'print the created pipeline as JSON')
    .action(
      action(async (options: CreateOptions) => {
        let config: string;
        try {
          config = readFileSync(options.file, 'utf8');
        } catch (error) {
          throw new UsageError(`cannot read ${options.file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
        }
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
      }),
    );

  pipelines
    .command('show')
    .description('show a pipeline and its config')
    .argument('<pipeline>', 'pipeline id, slug or TENANT/SLUG')
    .option('--json', 'print JSON')
    .action(
      action(async (ref: string, options: JsonOption) => {
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
      }),
    );
}

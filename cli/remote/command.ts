/**
 * What the remote commands' actions share: the API client from the resolved config, `--json` output and
 * tables, and resolving tenant/pipeline references.
 */
import type { PipelineSummary, Tenant } from '../../lib/api/schemas';
import { UsageError } from '../errors';
import { ApiClient } from './client';
import { resolveConnection, type RemoteConfig } from './config';
import { ApiError } from './errors';

/** Ids are cuids (lib/api/schemas/common.ts). */
const ID = /^[a-z0-9]{20,40}$/;

export interface JsonOption {
  json?: boolean;
}

export interface Remote {
  api: ApiClient;
  config: RemoteConfig;
}

export function remote(): Remote {
  const config = resolveConnection();
  return { api: new ApiClient({ url: config.url, token: config.token }), config };
}

/** All of stdin. */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Left-aligned columns; the last one is not padded. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  process.stdout.write(`${line(header)}\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

/** A tenant by id or slug; without one: the configured default, else the only tenant the token sees. */
export async function resolveTenant(remoteContext: Remote, ref: string | undefined): Promise<Tenant> {
  const tenants = await remoteContext.api.listTenants();
  const wanted = ref ?? remoteContext.config.tenant;
  if (wanted !== undefined) {
    const found = tenants.find((tenant) => tenant.id === wanted) ?? tenants.find((tenant) => tenant.slug === wanted);
    if (!found) throw new ApiError('not_found', `tenant "${wanted}" not found (or this token cannot see it)`, 404);
    return found;
  }
  if (tenants.length === 1) return tenants[0]!;
  if (tenants.length === 0) throw new ApiError('not_found', 'this token sees no tenant', 404);
  throw new UsageError(`this token sees ${tenants.length} tenants: pass --tenant with one of ${tenants.map((tenant) => tenant.slug).join(', ')}`);
}

/** A pipeline by id, or by slug (`SLUG` when unique among the visible tenants, or `TENANT/SLUG`). */
export async function resolvePipelineId(remoteContext: Remote, ref: string): Promise<string> {
  if (ID.test(ref)) return ref;
  const [tenantRef, slug] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [undefined, ref];
  const tenants = tenantRef !== undefined ? [await resolveTenant(remoteContext, tenantRef)] : await remoteContext.api.listTenants();
  const matches: PipelineSummary[] = [];
  for (const tenant of tenants) {
    matches.push(...(await remoteContext.api.listPipelines(tenant.id)).filter((pipeline) => pipeline.slug === slug));
  }
  if (matches.length === 0) throw new ApiError('not_found', `pipeline "${ref}" not found`, 404);
  if (matches.length > 1) {
    const names = matches.map((pipeline) => `${tenants.find((tenant) => tenant.id === pipeline.tenantId)?.slug ?? pipeline.tenantId}/${pipeline.slug}`);
    throw new UsageError(`pipeline "${ref}" is ambiguous: use one of ${names.join(', ')} (or its id)`);
  }
  return matches[0]!.id;
}

/** `12s`, `3m04s` from two ISO timestamps ('' when not started). */
export function duration(start: string | null, end: string | null): string {
  if (!start) return '';
  const ms = (end ? Date.parse(end) : Date.now()) - Date.parse(start);
  const seconds = Math.max(0, Math.round(ms / 1000));
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/**
 * The one REST client of the remote commands: `Authorization: Bearer <token>`, JSON in and out, API errors
 * (`{"error": {"code", "message", "details"}}`) and network failures turned into ApiError. Commands call
 * the typed methods below; nothing else builds URLs or parses responses.
 */
import { ApiError } from './errors';

export interface Tenant {
  id: string;
  organizationId: string;
  slug: string;
  name: string;
}

export interface PipelineSummary {
  id: string;
  tenantId: string;
  name: string;
  slug: string;
  repository: string | null;
  defaultBranch: string;
  configPath: string;
  nextRunNumber: number;
  createdAt: string;
  updatedAt: string;
}

export interface Pipeline extends PipelineSummary {
  config: string | null;
}

export interface StageRun {
  id: string;
  stageId: string;
  name: string;
  needs: string[];
  status: string;
  attempt: number;
  exitCode: number | null;
  executor: string | null;
  reason: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RunSummary {
  id: string;
  pipelineId: string;
  number: number;
  status: string;
  event: string;
  branch: string | null;
  tag: string | null;
  commitSha: string | null;
  cancelRequestedAt: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Run extends RunSummary {
  variables: Record<string, string>;
  stages: StageRun[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface LogPage {
  chunks: Array<{ seq: number; text: string; createdAt: string }>;
  next: number | null;
  stageStatus: string;
  complete: boolean;
}

export interface TriggerInput {
  branch?: string;
  sha?: string;
  tag?: string;
  message?: string;
  variables?: Record<string, string>;
}

type Query = Record<string, string | number | undefined>;

export interface ApiClientOptions {
  url: string;
  token: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class ApiClient {
  readonly url: string;
  readonly token: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    const url = new URL(`${this.url}${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw new ApiError('unreachable', `cannot reach ${this.url}: ${reason}`, 0);
    }
    const text = await response.text();
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    if (!response.ok) {
      const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
      if (error && typeof error.code === 'string' && typeof error.message === 'string') throw new ApiError(error.code, error.message, response.status, error.details ?? null);
      throw new ApiError(`http_${response.status}`, `${method} ${url.pathname} failed: HTTP ${response.status} ${response.statusText}`.trim(), response.status);
    }
    if (response.status !== 204 && body === null) {
      throw new ApiError('bad_response', `${method} ${url.pathname}: the server did not answer with JSON (is ${this.url} a BuildIt server?)`, response.status);
    }
    return body as T;
  }

  /** Every item of a paginated list (follows `nextCursor`), up to `max`. */
  async all<T>(path: string, query: Query = {}, max = 10_000): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.request<Page<T>>('GET', path, { query: { ...query, limit: 100, cursor } });
      items.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor && items.length < max);
    return items.slice(0, max);
  }

  listTenants(): Promise<Tenant[]> {
    return this.all<Tenant>('/api/v1/tenants');
  }
  listPipelines(tenantId: string): Promise<PipelineSummary[]> {
    return this.all<PipelineSummary>(`/api/v1/tenants/${encodeURIComponent(tenantId)}/pipelines`);
  }
  createPipeline(tenantId: string, body: { name: string; slug?: string; config: string; configPath?: string }): Promise<Pipeline> {
    return this.request('POST', `/api/v1/tenants/${encodeURIComponent(tenantId)}/pipelines`, { body });
  }
  getPipeline(pipelineId: string): Promise<Pipeline> {
    return this.request('GET', `/api/v1/pipelines/${encodeURIComponent(pipelineId)}`);
  }
  triggerRun(pipelineId: string, body: TriggerInput): Promise<Run> {
    return this.request('POST', `/api/v1/pipelines/${encodeURIComponent(pipelineId)}/runs`, { body: { event: 'manual', ...body } });
  }
  listRuns(pipelineId: string, options: { status?: string; limit?: number } = {}): Promise<Page<RunSummary>> {
    return this.request('GET', `/api/v1/pipelines/${encodeURIComponent(pipelineId)}/runs`, { query: { status: options.status, limit: options.limit } });
  }
  getRun(runId: string): Promise<Run> {
    return this.request('GET', `/api/v1/runs/${encodeURIComponent(runId)}`);
  }
  cancelRun(runId: string): Promise<Run> {
    return this.request('POST', `/api/v1/runs/${encodeURIComponent(runId)}/cancel`);
  }
  readLogs(runId: string, stageRunId: string, after?: number): Promise<LogPage> {
    return this.request('GET', `/api/v1/runs/${encodeURIComponent(runId)}/stages/${encodeURIComponent(stageRunId)}/logs`, {
      query: { after, limit: 1000, format: 'json' },
    });
  }
  /** The server's OpenAPI document: which operations it supports (e.g. whether it can rerun a run). */
  async operations(): Promise<Set<string>> {
    const document = await this.request<{ paths?: Record<string, Record<string, { operationId?: string }>> }>('GET', '/api/v1/openapi.json');
    const ids = new Set<string>();
    for (const [path, methods] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(methods ?? {})) {
        ids.add(`${method.toUpperCase()} ${path}`);
        if (operation?.operationId) ids.add(operation.operationId);
      }
    }
    return ids;
  }
}

export const FINAL_RUN_STATUSES = ['succeeded', 'failed', 'cancelled'];

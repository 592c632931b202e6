/**
 * The one REST client of the remote commands: `Authorization: Bearer <token>`, JSON in and out, API errors
 * (`{"error": {"code", "message", "details"}}`) and network failures turned into ApiError.
 * Every request is made from the server's own operation object (lib/api/schemas): its method and path, and
 * the types of its params, query, body and response (z.input / z.output of its zod schemas), so the CLI
 * cannot drift from the API or from its OpenAPI document. Commands call the methods below.
 */
import type { z } from 'zod';
import type { AuthMode, Operation, OperationResponses } from '../../lib/api/operation';
import * as api from '../../lib/api/schemas';
import { ApiError } from './errors';

type Schema = z.ZodType | undefined;

/** What calling an operation takes: its path params, query and body, as its schemas accept them. */
type CallInput<B extends Schema, Q extends Schema, P extends Schema> = (P extends z.ZodType ? { params: z.input<P> } : object) &
  (Q extends z.ZodType ? { query?: z.input<Q> } : object) &
  (B extends z.ZodType ? { body: z.input<B> } : object);

/** The body of an operation's success response, as its schema outputs it (undefined when it has none). */
type CallOutput<R extends OperationResponses> = { [S in keyof R]: R[S] extends { schema: infer T extends z.ZodType } ? z.output<T> : undefined }[keyof R];

/** A page of a list operation (`pageOf` in lib/api/schemas). */
type Page<T> = z.output<ReturnType<typeof api.pageOf<z.ZodType<T>>>>;

/** Most items `all()` collects from a paginated list. */
const MAX_ITEMS = 10_000;

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

  /** Calls an operation: `{name}` in its path is replaced by `input.params.name`. */
  private async call<B extends Schema, Q extends Schema, P extends Schema, R extends OperationResponses>(
    operation: Operation<AuthMode, B, Q, P, R>,
    input: CallInput<B, Q, P>,
  ): Promise<CallOutput<R>> {
    const { params, query, body } = input as { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown };
    const path = operation.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params?.[name] ?? ''));
    const url = new URL(`${this.url}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    return (await this.request(operation.method, url, body)) as CallOutput<R>;
  }

  private async request(method: string, url: URL, body: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        (error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw new ApiError('unreachable', `cannot reach ${this.url}: ${reason}`, 0);
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
      if (error && typeof error.code === 'string' && typeof error.message === 'string')
        throw new ApiError(error.code, error.message, response.status, error.details ?? null);
      throw new ApiError(`http_${response.status}`, `${method} ${url.pathname} failed: HTTP ${response.status} ${response.statusText}`.trim(), response.status);
    }
    if (response.status !== 204 && parsed === null) {
      throw new ApiError('bad_response', `${method} ${url.pathname}: the server did not answer with JSON (is ${this.url} a BuildIt server?)`, response.status);
    }
    return parsed;
  }

  /** Every item of a paginated list (follows `nextCursor`), up to MAX_ITEMS. */
  private async all<T>(page: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const next = await page(cursor);
      items.push(...next.items);
      cursor = next.nextCursor ?? undefined;
    } while (cursor && items.length < MAX_ITEMS);
    return items.slice(0, MAX_ITEMS);
  }

  listTenants(): Promise<api.Tenant[]> {
    return this.all((cursor) => this.call(api.listTenants, { query: { limit: 100, cursor } }));
  }
  listPipelines(tenantId: string): Promise<api.PipelineSummary[]> {
    return this.all((cursor) => this.call(api.listPipelines, { params: { tenantId }, query: { limit: 100, cursor } }));
  }
  createPipeline(tenantId: string, body: z.input<typeof api.CreatePipelineBody>): Promise<api.Pipeline> {
    return this.call(api.createPipeline, { params: { tenantId }, body });
  }
  getPipeline(pipelineId: string): Promise<api.Pipeline> {
    return this.call(api.getPipeline, { params: { pipelineId } });
  }
  triggerRun(pipelineId: string, body: z.input<typeof api.TriggerRunBody>): Promise<api.Run> {
    return this.call(api.triggerRun, { params: { pipelineId }, body: { event: 'manual', ...body } });
  }
  listRuns(pipelineId: string, query: z.input<typeof api.ListRunsQuery>): Promise<Page<api.RunSummary>> {
    return this.call(api.listRuns, { params: { pipelineId }, query });
  }
  getRun(runId: string): Promise<api.Run> {
    return this.call(api.getRun, { params: { runId } });
  }
  cancelRun(runId: string): Promise<api.Run> {
    return this.call(api.cancelRun, { params: { runId } });
  }
  rerunRun(runId: string, body: z.input<typeof api.RerunRunBody>): Promise<api.Run> {
    return this.call(api.rerunRun, { params: { runId }, body });
  }
  /** Approves (or, `approved` false, denies) a stage run waiting for approval. */
  decideStage(runId: string, stageRunId: string, approved: boolean): Promise<api.Run['stages'][number]> {
    return this.call(approved ? api.approveStage : api.denyStage, { params: { runId, stageRunId } });
  }
  readLogs(runId: string, stageRunId: string, after?: number): Promise<api.LogPage> {
    return this.call(api.getStageLogs, { params: { runId, stageRunId }, query: { after, limit: 1000, format: 'json' } });
  }
  listSecrets(tenantId: string): Promise<api.Secret[]> {
    return this.all((cursor) => this.call(api.listSecrets, { params: { tenantId }, query: { limit: 100, cursor } }));
  }
  setSecret(tenantId: string, name: string, value: string): Promise<api.Secret> {
    return this.call(api.setSecret, { params: { tenantId, name }, body: { value } });
  }
  deleteSecret(tenantId: string, name: string): Promise<void> {
    return this.call(api.deleteSecret, { params: { tenantId, name } });
  }
  listTokens(): Promise<api.Token[]> {
    return this.all((cursor) => this.call(api.listTokens, { query: { limit: 100, cursor } }));
  }
  createToken(body: z.input<typeof api.CreateTokenBody>): Promise<api.CreatedToken> {
    return this.call(api.createToken, { body });
  }
  revokeToken(tokenId: string): Promise<api.Token> {
    return this.call(api.revokeToken, { params: { tokenId } });
  }

  listStacks(tenantId: string): Promise<api.StackSummary[]> {
    return this.all((cursor) => this.call(api.listStacks, { params: { tenantId }, query: { limit: 100, cursor } }));
  }
  createStack(tenantId: string, body: z.input<typeof api.CreateStackBody>): Promise<api.Stack> {
    return this.call(api.createStack, { params: { tenantId }, body });
  }
  getStack(stackId: string): Promise<api.Stack> {
    return this.call(api.getStack, { params: { stackId } });
  }
  createStackRun(stackId: string, body: z.input<typeof api.CreateStackRunBody>): Promise<api.StackRun> {
    return this.call(api.createStackRun, { params: { stackId }, body });
  }
  getStackRun(stackRunId: string): Promise<api.StackRun> {
    return this.call(api.getStackRun, { params: { stackRunId } });
  }
  approveStackRun(stackRunId: string): Promise<api.StackRun> {
    return this.call(api.approveStackRun, { params: { stackRunId } });
  }
  readStackRunLogs(stackRunId: string, after: number): Promise<z.output<typeof api.StackRunLogs>> {
    return this.call(api.getStackRunLogs, { params: { stackRunId }, query: { after, limit: 1000 } });
  }
  listStateVersions(stackId: string): Promise<api.StateVersionSummary[]> {
    return this.all((cursor) => this.call(api.listStateVersions, { params: { stackId }, query: { limit: 100, cursor } }));
  }
  getStateVersion(stateVersionId: string): Promise<api.StateVersion> {
    return this.call(api.getStateVersion, { params: { stateVersionId } });
  }
  rollbackStateVersion(stateVersionId: string): Promise<api.StateVersionSummary> {
    return this.call(api.rollbackStateVersion, { params: { stateVersionId } });
  }
  forceUnlockStack(stackId: string): Promise<z.output<(typeof api.forceUnlockStack.responses)[200]['schema']>> {
    return this.call(api.forceUnlockStack, { params: { stackId } });
  }

  /** Whether the server's OpenAPI document has the operation (an older server may lack e.g. rerunRun). */
  async supports(operation: Operation): Promise<boolean> {
    const document = await this.call(api.openApiDocument, {});
    return document.paths?.[operation.path]?.[operation.method.toLowerCase()] !== undefined;
  }
}

// The web app's one way to call the REST API: same-origin fetch with the session cookie, JSON in and out,
// and the API's error body (`{error: {code, message, details}}`) turned into an ApiError a page can show.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error body's details, e.g. pipeline diagnostics of `invalid_pipeline`. */
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

/** `path` starts with `/api/v1/`. A body that is not a string is sent as JSON. */
export async function apiFetch<T>(path: string, init: Omit<RequestInit, 'body'> & { body?: unknown } = {}): Promise<T> {
  const { body, headers, ...rest } = init;
  const json = body !== undefined && typeof body !== 'string';
  let response: Response;
  try {
    response = await fetch(path, {
      ...rest,
      credentials: 'same-origin',
      headers: { accept: 'application/json', ...(json ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : json ? JSON.stringify(body) : (body as string),
    });
  } catch {
    throw new ApiError(0, 'network', 'BuildIt cannot be reached: check your connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const payload: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (payload as ErrorBody | null)?.error;
    if (response.status === 401) window.location.assign('/sign-in');
    throw new ApiError(response.status, error?.code ?? 'http_error', error?.message ?? `the server answered ${response.status}`, error?.details ?? null);
  }
  return payload as T;
}

/**
 * The message to show for anything a query or mutation threw. A request the API refused as invalid
 * (`validation_failed`, whose message only says "see details") shows each field's problem instead.
 */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError && error.code === 'validation_failed' && Array.isArray(error.details) && error.details.length > 0) {
    return (error.details as Array<{ path?: string; message?: string }>)
      .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : `${issue.message}`))
      .join('; ');
  }
  return error instanceof Error ? error.message : String(error);
}

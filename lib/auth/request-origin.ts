/**
 * Where a request came from: the client address as reported by the proxy in front (X-Forwarded-For, whose
 * first entry is the client; X-Real-IP) and the User-Agent. Both are the client's or the proxy's word:
 * recorded in audit rows and as a token's last-used address, never trusted for a decision.
 */
export interface RequestOrigin {
  ip: string | null;
  userAgent: string | null;
}

/** Longest value stored, so a client cannot fill the audit log with one header. */
const MAX_IP_LENGTH = 100;
const MAX_USER_AGENT_LENGTH = 500;

function header(value: string | null | undefined, maxLength: number): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed.slice(0, maxLength) : null;
}

export function requestOrigin(request: { headers: Pick<Headers, 'get'> }): RequestOrigin {
  const { headers } = request;
  const forwardedFor = headers.get('x-forwarded-for')?.split(',')[0];
  return {
    ip: header(forwardedFor?.trim() || headers.get('x-real-ip'), MAX_IP_LENGTH),
    userAgent: header(headers.get('user-agent'), MAX_USER_AGENT_LENGTH),
  };
}

/** The message of anything thrown (a non-Error value as text), for logs and reasons shown to people. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

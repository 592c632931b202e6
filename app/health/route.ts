/** Liveness: the process answers. Never touches the database, so a slow database does not restart the web. */
export function GET(): Response {
  return Response.json({ status: 'ok' });
}

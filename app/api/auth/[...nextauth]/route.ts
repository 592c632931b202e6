// next-auth's endpoints (/api/auth/signin, /callback/{provider}, /signout, /csrf, /session...), with the
// options built for this request: sign-ins and sessions record the caller's address (lib/auth/next-auth.ts).
import NextAuth from 'next-auth';
import type { NextRequest } from 'next/server';
import { authOptions } from '../../../../lib/auth/next-auth';
import { requestOrigin } from '../../../../lib/auth/request-origin';

interface Context {
  params: Promise<{ nextauth: string[] }>;
}

function handler(request: NextRequest, context: Context): Promise<Response> {
  return NextAuth(request, context, authOptions(requestOrigin(request))) as Promise<Response>;
}

export { handler as GET, handler as POST };

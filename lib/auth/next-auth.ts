/**
 * next-auth's configuration: the providers the operator set up (lib/config/env.ts), email + password, and
 * the bridge to BuildIt's own sessions. next-auth runs the OAuth/OIDC protocol and signs the cookie; the
 * cookie carries only the id of a `sessions` row (lib/auth/sessions.ts), which every request checks, so
 * sign-out, removal and disabling take effect at once. Built per request, to know the caller's address.
 */
import type { NextAuthOptions, Profile } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import GitHubProvider from 'next-auth/providers/github';
import GoogleProvider from 'next-auth/providers/google';
import type { OAuthConfig } from 'next-auth/providers/oauth';
import { githubFromEnv, googleFromEnv, oidcFromEnv, passwordSignInFromEnv, publicUrlFromEnv } from '../config/env';
import { getPrisma } from '../db/client';
import { admitUser, REFUSAL_MESSAGES } from './admission';
import { normalizeEmail } from './invitations';
import { signInWithPassword } from './password-sign-in';
import type { RequestOrigin } from './request-origin';
import { authSecret, usesSecureCookies } from './session-cookie';
import { SESSION_MAX_AGE_SECONDS, signOutSession, startSession } from './sessions';
import { recordSignIn } from './sign-in-audit';

/** An OAuth provider as the sign-in page lists it. */
export interface SignInProvider {
  id: string;
  name: string;
}

/** The OAuth providers configured, in the order the sign-in page shows them. */
export function oauthProviders(): SignInProvider[] {
  const oidc = oidcFromEnv();
  return [
    ...(oidc ? [{ id: 'oidc', name: oidc.name }] : []),
    ...(githubFromEnv() ? [{ id: 'github', name: 'GitHub' }] : []),
    ...(googleFromEnv() ? [{ id: 'google', name: 'Google' }] : []),
  ];
}

interface OidcProfile extends Profile {
  sub: string;
  email_verified?: boolean | string;
}

/** Any OpenID Connect issuer, discovered from its `.well-known/openid-configuration`. */
function oidcProvider(): OAuthConfig<OidcProfile> | null {
  const settings = oidcFromEnv();
  if (!settings) return null;
  return {
    id: 'oidc',
    name: settings.name,
    type: 'oauth',
    wellKnown: `${settings.issuer}/.well-known/openid-configuration`,
    clientId: settings.clientId,
    clientSecret: settings.clientSecret,
    authorization: { params: { scope: 'openid email profile' } },
    idToken: true,
    checks: ['pkce', 'state'],
    profile: (profile) => ({ id: profile.sub, email: profile.email ?? null, name: profile.name ?? null }),
  };
}

/** GitHub, with the account's primary email only when GitHub verified it. */
function githubProvider() {
  const settings = githubFromEnv();
  if (!settings) return null;
  return GitHubProvider({
    ...settings,
    userinfo: {
      url: 'https://api.github.com/user',
      async request({ tokens }) {
        const headers = { authorization: `Bearer ${tokens.access_token}`, 'user-agent': 'buildit' };
        const user = (await (await fetch('https://api.github.com/user', { headers })).json()) as Record<string, unknown>;
        const emails = (await (await fetch('https://api.github.com/user/emails', { headers })).json()) as Array<{
          email: string;
          primary: boolean;
          verified: boolean;
        }>;
        const primary = Array.isArray(emails) ? emails.find((entry) => entry.primary && entry.verified) : undefined;
        return { ...user, email: primary?.email, email_verified: primary !== undefined };
      },
    },
  });
}

/** The email the provider vouches for, or null. next-auth passes the provider's raw profile. */
function verifiedEmail(profile: (Profile & { email_verified?: unknown }) | undefined): string | null {
  if (!profile?.email) return null;
  return profile.email_verified === true || profile.email_verified === 'true' ? normalizeEmail(profile.email) : null;
}

export function authOptions(origin: RequestOrigin): NextAuthOptions {
  // next-auth builds callback URLs on NEXTAUTH_URL: the address users reach BuildIt at.
  process.env.NEXTAUTH_URL ??= publicUrlFromEnv().origin;
  const prisma = getPrisma();
  const oauth = [oidcProvider(), githubProvider(), googleFromEnv() ? GoogleProvider(googleFromEnv()!) : null].filter((provider) => provider !== null);
  const password = passwordSignInFromEnv()
    ? [
        CredentialsProvider({
          id: 'password',
          name: 'Email and password',
          credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
          // A SignInError's message is what the sign-in page shows.
          async authorize(credentials) {
            const { user } = await signInWithPassword(prisma, { email: credentials?.email ?? '', password: credentials?.password ?? '', origin });
            return { id: user.id, email: user.email, name: user.name };
          },
        }),
      ]
    : [];

  return {
    secret: authSecret(),
    useSecureCookies: usesSecureCookies(),
    providers: [...oauth, ...password],
    session: { strategy: 'jwt', maxAge: SESSION_MAX_AGE_SECONDS },
    pages: { signIn: '/sign-in', signOut: '/sign-out', error: '/sign-in' },
    callbacks: {
      async signIn({ user, account, profile }) {
        // Password sign-ins were checked (and recorded) by signInWithPassword.
        if (!account || account.type === 'credentials') return true;
        const email = verifiedEmail(profile);
        const fail = async (reason: string) => {
          await recordSignIn(prisma, {
            email: profile?.email ?? '',
            userId: null,
            organizationId: null,
            provider: account.provider,
            outcome: 'failed',
            reason,
            origin,
          });
          return `/sign-in?error=${reason}`;
        };
        if (email === null) return fail('email_unverified');
        const admission = await admitUser(prisma, { email, name: profile?.name ?? null, origin });
        if ('refused' in admission) return fail(admission.refused);
        user.email = email;
        return true;
      },
      async jwt({ token, user, account }) {
        if (!account || !user?.email) return token;
        // The moment of sign-in: open the server-side session the cookie will name.
        const dbUser = await prisma.user.findUniqueOrThrow({ where: { email: normalizeEmail(user.email) }, select: { id: true, email: true, name: true } });
        const started = await startSession(prisma, { userId: dbUser.id, provider: account.provider, origin });
        if (!started) throw new Error(REFUSAL_MESSAGES.no_organization);
        if (account.type !== 'credentials') {
          await recordSignIn(prisma, {
            email: dbUser.email,
            userId: dbUser.id,
            organizationId: started.organizationId,
            provider: account.provider,
            outcome: 'success',
            origin,
          });
        }
        return { sid: started.sessionId, email: dbUser.email, name: dbUser.name };
      },
    },
    events: {
      async signOut({ token }) {
        if (typeof token?.sid === 'string') await signOutSession(prisma, token.sid, origin);
      },
    },
  };
}

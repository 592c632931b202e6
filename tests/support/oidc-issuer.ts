/**
 * An OpenID Connect provider for sign-in tests: oauth2-mock-server on 127.0.0.1 with one RS256 key. Its
 * authorize endpoint signs the caller in at once (no login page) as `issuer.user`, which a test sets
 * before it starts a sign-in: the ID token and the userinfo answer carry that user's `sub`, `email`,
 * `email_verified: true` and `name`. Counts what it served, so a test can tell that a sign-in really
 * went through it.
 */
import { OAuth2Server, type MutableResponse, type MutableToken } from 'oauth2-mock-server';

export interface OidcUser {
  sub: string;
  email: string;
  name: string;
}

export interface OidcIssuer {
  /** `http://127.0.0.1:<port>`: BUILDIT_OIDC_ISSUER (the discovery document is under it). */
  url: string;
  /** Who the next sign-in is. */
  user: OidcUser;
  /** Requests served so far, by endpoint. */
  served: { authorize: number; token: number; userinfo: number };
  stop(): Promise<void>;
}

export function oidcUser(email: string, name: string): OidcUser {
  return { sub: `sub-${email}`, email, name };
}

export async function startOidcIssuer(user: OidcUser = oidcUser('alice@example.com', 'Alice Example')): Promise<OidcIssuer> {
  const server = new OAuth2Server();
  await server.issuer.keys.generate('RS256');
  await server.start(0, '127.0.0.1');
  // The library names its issuer http://localhost:<port>; keep every request on 127.0.0.1, where it listens.
  const url = `http://127.0.0.1:${server.address().port}`;
  server.issuer.url = url;

  const issuer: OidcIssuer = {
    url,
    user,
    served: { authorize: 0, token: 0, userinfo: 0 },
    stop: () => server.stop(),
  };
  const claims = () => ({ sub: issuer.user.sub, email: issuer.user.email, email_verified: true, name: issuer.user.name });

  server.service.on('beforeAuthorizeRedirect', () => {
    issuer.served.authorize++;
  });
  // Both the access token and the ID token of a token response: the user's claims replace the library's "johndoe".
  server.service.on('beforeTokenSigning', (token: MutableToken) => {
    Object.assign(token.payload, claims());
  });
  server.service.on('beforeResponse', () => {
    issuer.served.token++;
  });
  server.service.on('beforeUserinfo', (response: MutableResponse) => {
    issuer.served.userinfo++;
    response.body = claims();
  });
  return issuer;
}

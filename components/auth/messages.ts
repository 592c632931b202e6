// What the sign-in page says for an `?error=` code: BuildIt's refusals (lib/auth/admission.ts) and
// next-auth's own codes.
import { REFUSAL_MESSAGES } from '../../lib/auth/admission';

const MESSAGES: Record<string, string> = {
  ...REFUSAL_MESSAGES,
  email_unverified: 'the sign-in provider did not confirm that you own this email: verify it with the provider, then sign in again',
  OAuthSignin: 'could not reach the sign-in provider: try again, or ask an administrator to check its settings',
  OAuthCallback: 'the sign-in provider’s answer could not be checked: try again',
  OAuthAccountNotLinked: 'this email signs in with another provider',
  Callback: 'signing in failed: try again',
  AccessDenied: 'you may not sign in to BuildIt: ask an administrator for an invitation',
  SessionRequired: 'sign in to see this page',
  CredentialsSignin: 'wrong email or password',
};

export function isSignInErrorCode(code: string): boolean {
  return Object.hasOwn(MESSAGES, code);
}

/** Only known codes are shown: an `?error=` of a link someone sent must not put their words on the page. */
export function signInErrorMessage(code: string | undefined): string | null {
  if (!code) return null;
  return isSignInErrorCode(code) ? MESSAGES[code]! : 'signing in failed: try again';
}

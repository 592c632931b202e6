'use server';
// The setup page's server action. Setup makes whoever submits it the owner of BuildIt, so no other site may
// submit it: Next already aborts a server action whose Origin differs from the Host it was sent to, and
// crossSiteProblem adds the rule of every cookie write (the Origin is BUILDIT_PUBLIC_URL's or the host's; a
// POST without one is refused).
import { redirect } from 'next/navigation';
import { createFirstOwner, SetupError } from '../../lib/auth/first-run';
import { getPrisma } from '../../lib/db/client';
import { actionRequest } from '../session';

export interface SetupState {
  error: string | null;
  /** What was typed, shown again with the error (never the password). */
  organizationName: string;
  email: string;
}

function field(form: FormData, name: string): string {
  // A hand-made request may pass anything as the form.
  const value = form instanceof FormData ? form.get(name) : null;
  return typeof value === 'string' ? value : '';
}

export async function setUp(_previous: SetupState, form: FormData): Promise<SetupState> {
  const { origin, crossSite } = await actionRequest();
  const typed = { organizationName: field(form, 'organizationName'), email: field(form, 'email') };
  // The rule's own words are about cookie writes: say what to do here.
  if (crossSite !== null) return { ...typed, error: 'the setup form must be sent from BuildIt’s own setup page: open /setup again and submit it there' };
  try {
    await createFirstOwner(getPrisma(), { ...typed, password: field(form, 'password') }, origin);
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    // Someone else finished the setup meanwhile: there is nothing left to do here.
    if (error.code === 'setup_done') redirect('/sign-in');
    return { ...typed, error: error.message };
  }
  redirect('/sign-in?setup=done');
}

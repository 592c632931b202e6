import Link from 'next/link';
import { switchOrganizationAction } from './actions';
import { requireSession } from './session';

export const dynamic = 'force-dynamic';

export default async function HomePage() {
  const session = await requireSession();
  return (
    <main className="mx-auto max-w-3xl px-6 py-16">
      <header className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2">
        <h1 className="text-3xl font-semibold tracking-tight">{session.organization.name}</h1>
        <p className="text-sm text-slate-600">
          Signed in as {session.user.email} ·{' '}
          <Link className="whitespace-nowrap text-blue-700 underline" href="/sign-out">
            Sign out
          </Link>
        </p>
      </header>
      {session.organizations.length > 1 ? (
        <form action={switchOrganizationAction} className="mt-6 flex items-end gap-2">
          <label className="text-sm font-medium">
            Organization
            <select name="organizationId" defaultValue={session.organization.id} className="mt-1 block rounded-md border border-slate-300 px-3 py-2">
              {session.organizations.map((organization) => (
                <option key={organization.id} value={organization.id}>
                  {organization.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-100">
            Switch
          </button>
        </form>
      ) : null}
      <p className="mt-8 text-slate-600">
        Pipelines written in KDL run as a DAG of stages in containers; Terraform stacks plan, wait for approval, then apply. The dashboard arrives with the next
        releases; meanwhile the REST API (
        <a className="text-blue-700 underline" href="/api/v1/openapi.json">
          OpenAPI
        </a>
        ) and the `buildit` CLI do everything.
      </p>
    </main>
  );
}

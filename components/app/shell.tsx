'use client';
// The frame of every signed-in page: the sidebar (navigation, organization and tenant switchers, theme,
// sign-out) beside the page. On a phone the sidebar becomes a bar above the page with a menu button.
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useState, type ReactNode } from 'react';
import { switchOrganizationAction, switchTenantAction } from '../../app/(app)/actions';
import { ThemeToggle } from './theme';
import { useWorkspace } from './workspace';

const SECTIONS = [
  { href: '/', label: 'Dashboard' },
  { href: '/pipelines', label: 'Pipelines' },
  { href: '/runs', label: 'Runs' },
  { href: '/stacks', label: 'Stacks' },
  { href: '/environments', label: 'Environments' },
  { href: '/settings', label: 'Settings' },
] as const;

const FOCUS = 'focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-500';
const SELECT = `mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm dark:border-slate-600 dark:bg-slate-800 ${FOCUS}`;

const isCurrent = (pathname: string, href: string) => (href === '/' ? pathname === '/' : pathname === href || pathname.startsWith(`${href}/`));

export function AppShell({ children }: { children: ReactNode }) {
  const pathname = usePathname();
  const [menuOpen, setMenuOpen] = useState(false);
  const { user } = useWorkspace();
  return (
    <div className="min-h-screen md:flex">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 dark:focus:bg-slate-900"
      >
        Skip to content
      </a>
      <header className="flex items-center justify-between border-b border-slate-200 bg-white px-4 py-3 md:hidden dark:border-slate-800 dark:bg-slate-900">
        <span className="font-semibold">BuildIt</span>
        <button
          type="button"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen(!menuOpen)}
          className={`rounded-md border border-slate-300 px-3 py-1.5 text-sm dark:border-slate-600 ${FOCUS}`}
        >
          Menu
        </button>
      </header>
      <aside
        id="sidebar"
        className={`${menuOpen ? 'block' : 'hidden'} w-full shrink-0 border-b border-slate-200 bg-white p-4 md:sticky md:top-0 md:block md:h-screen md:w-60 md:overflow-y-auto md:border-b-0 md:border-r dark:border-slate-800 dark:bg-slate-900`}
      >
        <p className="hidden text-lg font-semibold tracking-tight md:block">BuildIt</p>
        <nav aria-label="Main" className="mt-2 md:mt-6">
          <ul className="space-y-1">
            {SECTIONS.map(({ href, label }) => {
              const current = isCurrent(pathname, href);
              return (
                <li key={href}>
                  <Link
                    href={href}
                    aria-current={current ? 'page' : undefined}
                    onClick={() => setMenuOpen(false)}
                    className={`block rounded-md px-3 py-2 text-sm font-medium ${FOCUS} ${
                      current
                        ? 'bg-blue-50 text-blue-800 dark:bg-blue-950 dark:text-blue-200'
                        : 'text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800'
                    }`}
                  >
                    {label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <WorkspaceSwitchers returnTo={pathname} />
        <div className="mt-6 space-y-3 border-t border-slate-200 pt-4 text-sm dark:border-slate-800">
          <p className="break-all text-slate-600 dark:text-slate-400">Signed in as {user.email}</p>
          <div className="flex items-center justify-between gap-2">
            <ThemeToggle className={`rounded-md px-2 py-1.5 hover:bg-slate-100 dark:hover:bg-slate-800 ${FOCUS}`} />
            {/* The sign-out page asks first, then ends the session on the server. */}
            <Link href="/sign-out" className={`whitespace-nowrap rounded-md px-2 py-1.5 font-medium text-blue-700 underline dark:text-blue-300 ${FOCUS}`}>
              Sign out
            </Link>
          </div>
        </div>
      </aside>
      <main id="main" className="min-w-0 flex-1 px-4 py-6 md:px-8">
        {children}
      </main>
    </div>
  );
}

/** Changing a select submits its form: the server action remembers the choice and reloads the page. */
function WorkspaceSwitchers({ returnTo }: { returnTo: string }) {
  const { organization, organizations, tenant, tenants } = useWorkspace();
  return (
    <div className="mt-6 space-y-3 border-t border-slate-200 pt-4 dark:border-slate-800">
      {organizations.length > 1 ? (
        <Switcher label="Organization" name="organizationId" action={switchOrganizationAction} current={organization.id} choices={organizations} />
      ) : (
        <p className={LABEL}>
          Organization <span className="mt-1 block text-sm normal-case tracking-normal text-slate-900 dark:text-slate-100">{organization.name}</span>
        </p>
      )}
      {tenants.length > 0 ? (
        <Switcher label="Tenant" name="tenantId" action={switchTenantAction} current={tenant?.id} choices={tenants}>
          <input type="hidden" name="returnTo" value={returnTo} />
        </Switcher>
      ) : null}
    </div>
  );
}

const LABEL = 'block text-xs font-medium uppercase tracking-wide text-slate-500 dark:text-slate-400';

interface SwitcherProps {
  label: string;
  name: string;
  action: (form: FormData) => Promise<void>;
  current: string | undefined;
  choices: ReadonlyArray<{ id: string; name: string }>;
  children?: ReactNode;
}

function Switcher({ label, name, action, current, choices, children }: SwitcherProps) {
  return (
    <form action={action}>
      {children}
      <label className={LABEL}>
        {label}
        <select name={name} defaultValue={current} onChange={(event) => event.currentTarget.form?.requestSubmit()} className={SELECT}>
          {choices.map((choice) => (
            <option key={choice.id} value={choice.id}>
              {choice.name}
            </option>
          ))}
        </select>
      </label>
    </form>
  );
}

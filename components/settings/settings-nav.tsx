'use client';
// The sub-navigation of Settings; the current section is marked for assistive technology too.
import Link from 'next/link';
import { usePathname } from 'next/navigation';

const SECTIONS = [
  { href: '/settings', label: 'General' },
  { href: '/settings/members', label: 'Members' },
  { href: '/settings/secrets', label: 'Secrets' },
  { href: '/settings/tokens', label: 'Tokens' },
  { href: '/settings/audit-log', label: 'Audit log' },
] as const;

export function SettingsNav() {
  const pathname = usePathname();
  return (
    <nav aria-label="Settings" className="mb-6 border-b border-slate-200 dark:border-slate-800">
      <ul className="-mb-px flex flex-wrap gap-x-1">
        {SECTIONS.map(({ href, label }) => {
          const current = pathname === href;
          return (
            <li key={href}>
              <Link
                href={href}
                aria-current={current ? 'page' : undefined}
                className={`inline-block border-b-2 px-3 py-2 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-500 ${
                  current
                    ? 'border-blue-700 text-blue-800 dark:border-blue-300 dark:text-blue-200'
                    : 'border-transparent text-slate-700 hover:border-slate-300 dark:text-slate-300 dark:hover:border-slate-600'
                }`}
              >
                {label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

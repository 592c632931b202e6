import type { Metadata } from 'next';
import { PageHeader } from '../../components/app/states';
import { Dashboard } from '../../components/dashboard/dashboard';

export const metadata: Metadata = { title: 'Dashboard · BuildIt' };

export default function DashboardPage() {
  return (
    <>
      <PageHeader title="Dashboard" description="How the tenant you work in is doing today." />
      <Dashboard />
    </>
  );
}

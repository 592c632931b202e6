export default function HomePage() {
  return (
    <main className="mx-auto max-w-3xl px-6 py-16">
      <h1 className="text-3xl font-semibold tracking-tight">BuildIt</h1>
      <p className="mt-4 text-slate-600">
        Pipelines written in KDL run as a DAG of stages in containers; Terraform stacks plan, wait for approval, then apply. This server is up; the dashboard
        arrives with the next releases.
      </p>
      <ul className="mt-8 space-y-2 text-sm">
        <li>
          <a className="text-blue-700 underline" href="/health/ready">
            /health/ready
          </a>{' '}
          — database reachable and migrated
        </li>
      </ul>
    </main>
  );
}

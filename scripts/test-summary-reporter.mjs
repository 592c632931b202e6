// A node:test reporter that writes only the run's totals, as JSON, for scripts/test.ts to print last.
// It reads the runner's own closing diagnostics ("tests 12", "pass 11", ...), so its counts are the runner's.
export default async function* summaryReporter(source) {
  const totals = {};
  for await (const event of source) {
    if (event.type !== 'test:diagnostic' || event.data.nesting !== 0) continue;
    const match = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/.exec(event.data.message);
    if (match) totals[match[1]] = Number(match[2]);
  }
  yield JSON.stringify(totals);
}

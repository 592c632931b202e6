/**
 * Helpers for benchmarks. Machines here are shared and noisy, so every benchmark measures its own
 * baseline in the same run and reports a ratio; absolute times are printed only for context.
 */
import { performance } from 'node:perf_hooks';

export interface Summary {
  runs: number;
  p50: number;
  p95: number;
  mean: number;
}

/** Runs `fn` `warmup` times unmeasured, then `runs` times; returns milliseconds per run. */
export async function sample(fn: () => unknown, { runs, warmup = 1 }: { runs: number; warmup?: number }): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}

/**
 * Measures candidate and baseline interleaved (A B A B ...) so drift in machine load hits both alike,
 * and prints `name: ratio Nx (candidate p50 X ms, baseline p50 Y ms) goal < G x: met|MISSED`.
 */
export async function compare(
  name: string,
  candidate: () => unknown,
  baseline: () => unknown,
  { runs, warmup = 1, goal }: { runs: number; warmup?: number; goal?: number },
): Promise<{ ratio: number; candidate: Summary; baseline: Summary }> {
  const candidateSamples: number[] = [];
  const baselineSamples: number[] = [];
  for (let i = 0; i < warmup; i++) {
    await candidate();
    await baseline();
  }
  for (let i = 0; i < runs; i++) {
    candidateSamples.push(...(await sample(candidate, { runs: 1, warmup: 0 })));
    baselineSamples.push(...(await sample(baseline, { runs: 1, warmup: 0 })));
  }
  const c = summarize(candidateSamples);
  const b = summarize(baselineSamples);
  const ratio = c.p50 / b.p50;
  printRatio(name, ratio, c, b, goal);
  return { ratio, candidate: c, baseline: b };
}

export function printRatio(name: string, ratio: number, candidate: Summary, baseline: Summary, goal?: number): void {
  const verdict = goal === undefined ? '' : ` goal < ${goal}x: ${ratio < goal ? 'met' : 'MISSED'}`;
  console.log(
    `${name}: ratio ${ratio.toFixed(2)}x (candidate p50 ${candidate.p50.toFixed(2)} ms p95 ${candidate.p95.toFixed(2)} ms, ` +
      `baseline p50 ${baseline.p50.toFixed(2)} ms p95 ${baseline.p95.toFixed(2)} ms, ${candidate.runs} runs)${verdict}`,
  );
}

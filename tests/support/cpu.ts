/**
 * CPU placement for the one browser test that bounds a page's long tasks while the server takes in a flood
 * (tests/web/run-page-million.test.ts): the server side (BuildIt, PostgreSQL, the private Docker engine) runs on
 * the machine's last CPU, so on two cores the browser has one to itself, as on a user's machine.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

/** The CPU the server side is kept on; undefined on a single-CPU machine (nothing to separate). */
export const SERVER_CPU: number | undefined = availableParallelism() >= 2 ? availableParallelism() - 1 : undefined;

/** Keeps every thread of `pid` on `cpu` (`taskset`, util-linux); the processes it starts later inherit it. */
export function pinToCpu(pid: number, cpu: number): void {
  const result = spawnSync('taskset', ['--all-tasks', '--pid', '--cpu-list', String(cpu), String(pid)], { encoding: 'utf8' });
  // A process that ended meanwhile is nothing to pin.
  if (result.error || (result.status !== 0 && !/No such process/.test(result.stderr))) {
    throw new Error(`taskset could not pin process ${pid} to CPU ${cpu} (install util-linux): ${result.error?.message ?? result.stderr.trim()}`);
  }
}

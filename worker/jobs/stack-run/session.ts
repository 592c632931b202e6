/**
 * What one phase (plan or apply) of a stack run works with: a fresh directory holding the configuration
 * and BuildIt's backend override, the environment of its terraform (variables, the run's backend
 * credential), the run's log (masked with every sensitive value), and a stop signal that fires when the
 * run is cancelled (watched in the database) or the worker must let go of the job.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PrismaClient } from '../../../lib/generated/prisma/client';
import type { Stack, StackRun } from '../../../lib/generated/prisma/client';
import type { StackRunEventPublisher } from '../../../lib/realtime/publisher';
import { createMasker } from '../../../lib/secrets/mask';
import { StackRunLog } from '../../../lib/stacks/run-log';
import { materializeSource } from '../../../lib/stacks/source';
import type { TerraformBinaries } from '../../../lib/stacks/terraform/binary';
import { asksForInit, initCacheEntry, restoreInit, saveInit } from '../../../lib/stacks/terraform/init-cache';
import { readableLines } from '../../../lib/stacks/terraform/json-lines';
import { runTerraform, type TerraformExit } from '../../../lib/stacks/terraform/process';
import { chooseBinary } from '../../../lib/stacks/terraform/version';
import { backendOverride, prepareWorkdir } from '../../../lib/stacks/terraform/workdir';
import { resolveRunVariables } from '../../../lib/stacks/variables';
import { requireSuccess } from './finish';

export interface StackRunDeps {
  prisma: PrismaClient;
  dataDir: string;
  /** Where terraform reaches the web's state backend: `<base>/api/v1/stacks/<id>/state`. */
  stateBaseUrl: string;
  /** The binaries this worker offers; a stack names one (`terraformBinary`) or runs the default. */
  terraform: TerraformBinaries;
  /**
   * terraform runs as a process on this host, where any configuration can run programs (`local-exec`): only
   * on a worker trusted with host processes (BUILDIT_WORKER_EXECUTORS includes `local`). False: every run
   * this worker takes ends errored and says how to enable it.
   */
  hostProcesses: boolean;
  /** After SIGINT, how long terraform may take to stop before it is killed. */
  cancelGraceMs: number;
  /** How often a running phase looks for a cancel request. */
  cancelPollMs: number;
  /** Where the run's changes are announced to the browsers (announce.ts); none: nobody is told. */
  publisher?: StackRunEventPublisher;
  /** Called after each log chunk of the run is stored. */
  onLogStored?: () => void;
}

/** A terraform command's end, and whether its errors ask for `terraform init` (a reused init that no longer fits). */
export type TerraformRun = TerraformExit & { asksForInit: boolean };

export interface Session {
  workdir: string;
  commitSha: string | null;
  log: StackRunLog;
  /** Aborted on cancel or when the worker lets go of the job. */
  stop: AbortSignal;
  cancelRequested(): boolean;
  /**
   * `reuse`: starts from the stack's last init when one is kept (lib/stacks/terraform/init-cache.ts) and
   * returns true; else runs `terraform init` (throwing when it fails), keeps what it made, returns false.
   */
  init(options: { reuse: boolean }): Promise<boolean>;
  /** Runs terraform with its output in the log (`-json` messages as readable lines); `watch` sees each stdout line too. */
  terraform(args: string[], watch?: (line: string) => void): Promise<TerraformRun>;
  /** Runs terraform and returns its stdout, logging only stderr (`show -json`: the plan in clear). */
  capture(args: string[]): Promise<{ exit: TerraformExit; stdout: string }>;
  /** Milliseconds spent per step (checkout, init, plan, ...), for the worker's log. */
  timings: Record<string, number>;
  /** Runs `work`, adding its duration to `timings[step]`. */
  timed<T>(step: string, work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openSession(
  deps: StackRunDeps,
  run: StackRun & { stack: Stack },
  phase: 'plan' | 'apply',
  credential: { username: string; password: string },
  jobSignal: AbortSignal,
): Promise<Session> {
  const variables = await resolveRunVariables(deps.prisma, run.stack);
  const log = await StackRunLog.open(deps.prisma, run.id, createMasker([...variables.sensitiveValues, credential.password]), deps.onLogStored);
  const controller = new AbortController();
  let cancelRequested = false;
  const onJobAbort = () => controller.abort();
  jobSignal.addEventListener('abort', onJobAbort, { once: true });
  const poll = setInterval(() => {
    void deps.prisma.stackRun
      .findUnique({ where: { id: run.id }, select: { cancelRequestedAt: true } })
      .then((row) => {
        if (row?.cancelRequestedAt && !cancelRequested) {
          cancelRequested = true;
          log.line('cancel requested: stopping terraform (SIGINT)');
          controller.abort();
        }
      })
      .catch(() => {});
  }, deps.cancelPollMs);
  const dir = path.join(deps.dataDir, 'stack-runs', run.id, phase);
  const timings: Record<string, number> = {};
  const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await work();
    } finally {
      timings[step] = Math.round((timings[step] ?? 0) + performance.now() - start);
    }
  };
  // Keeping an init runs beside the plan; the directory it copies from stays until it is done.
  let keeping: Promise<void> = Promise.resolve();
  const close = async () => {
    clearInterval(poll);
    jobSignal.removeEventListener('abort', onJobAbort);
    await keeping;
    await log.flush();
    // The directory holds the plan file and terraform's cached state: nothing of it outlives the phase.
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    const binary = await chooseBinary(deps.terraform, run.stack, (line) => log.line(line));
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    const checkoutStart = performance.now();
    const source = await materializeSource({
      prisma: deps.prisma,
      dataDir: deps.dataDir,
      dir,
      stack: run.stack,
      commitSha: run.commitSha,
      archive: run.configArchive,
      onLine: (line) => log.line(line),
      signal: controller.signal,
    });
    const stateUrl = `${deps.stateBaseUrl.replace(/\/$/, '')}/api/v1/stacks/${run.stackId}/state`;
    const env = {
      ...(await prepareWorkdir(source.workdir, { stateUrl, ...credential }, path.join(deps.dataDir, 'terraform-plugins'))),
      ...variables.env,
    };
    timings.checkout = Math.round(performance.now() - checkoutStart);
    const keptInit = await initCacheEntry(path.join(deps.dataDir, 'terraform-init'), {
      binary,
      backendOverride: backendOverride(stateUrl),
      configPath: path.relative(dir, source.workdir),
    });
    const terraform = async (args: string[], onStdout: (line: string) => void): Promise<TerraformRun> => {
      log.line(`$ terraform ${args.join(' ')}`);
      let initHint = false;
      const exit = await runTerraform({
        binary,
        cwd: source.workdir,
        args,
        env,
        onLine: (stream, line) => {
          initHint ||= asksForInit(line);
          if (stream === 'stdout') onStdout(line);
          else log.line(line);
        },
        signal: controller.signal,
        graceMs: deps.cancelGraceMs,
      });
      return { ...exit, asksForInit: initHint };
    };
    const session: Session = {
      workdir: source.workdir,
      commitSha: source.commitSha,
      log,
      stop: controller.signal,
      cancelRequested: () => cancelRequested,
      async init({ reuse }) {
        if (reuse && keptInit !== null && (await restoreInit(keptInit, source.workdir))) {
          log.line("terraform init: reusing this stack's last init (terraform checks it against the configuration before it plans)");
          return true;
        }
        requireSuccess(session, await session.terraform(['init', '-input=false', '-no-color']), 'terraform init');
        // A cache that cannot be written costs the next run an init, nothing more.
        if (keptInit !== null) keeping = keeping.then(() => saveInit(keptInit, source.workdir)).catch(() => {});
        return false;
      },
      terraform: (args, watch) =>
        terraform(args, (line) => {
          watch?.(line);
          readableLines(line).forEach((text) => log.line(text));
        }),
      async capture(args) {
        const lines: string[] = [];
        const exit = await terraform(args, (line) => lines.push(line));
        return { exit, stdout: lines.join('\n') };
      },
      timings,
      timed,
      close,
    };
    return session;
  } catch (error) {
    await close();
    throw error;
  }
}

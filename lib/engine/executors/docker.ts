/**
 * `docker` executor: one container per attempt, through the Docker Engine API (dockerode).
 *
 * - Images are never pulled implicitly (pull policy `never` by default): a missing image fails the
 *   spawn with `ExecutorError('image_missing')` saying how to get it. `if-missing` and `always` pull.
 * - The stage container runs ALL commands of the attempt: its entrypoint is `sh -c RUNNER`, which runs
 *   every command as its own `sh -e -c COMMAND` in order and exits with the first failure (the same
 *   runner as the local executor). One container per attempt keeps start cost at one container
 *   (~0.2-0.3 s here) and makes the container id the handle. The image must have /bin/sh.
 * - Cancel = `docker stop -t stopGraceSeconds`: tini forwards SIGTERM to the runner, which forwards it
 *   once to every command process, waits for them, and exits 143; SIGKILL after the grace period.
 * - The run's workspace (a directory of the host storage) is bind-mounted at /workspace (the
 *   WorkingDir); cache volumes are bind mounts too (a relative path is resolved under /workspace).
 * - Containers outlive the worker (`survivesWorker`): a worker that takes a run over finds them by their
 *   labels (`recover`), re-attaches to their logs and takes their exit codes.
 * - `HostConfig.Init: true`: tini is PID 1 and forwards SIGTERM, so `stop` ends a stage in ~60 ms
 *   instead of waiting out the grace period.
 * - Network mode is `none` (default) or `host`, never anything else: BuildIt never creates networks
 *   or touches the host's network configuration. Services get the same mode; on `host` the stage
 *   reaches them on 127.0.0.1 (and by name: each service name is added to the stage's /etc/hosts as
 *   127.0.0.1); on `none` every container has its own isolated loopback, so services are started but
 *   NOT reachable from the stage (use `networkMode: 'host'` for stages with services). Services are
 *   started (not health-checked) before the stage container and removed with it by `destroy`.
 * - Every container carries the labels buildit.run / buildit.stage / buildit.attempt /
 *   buildit.role (stage|service) [/ buildit.service] plus job.labels, so a recovering worker finds
 *   them with `findContainersByLabel`.
 * - Memory limits set MemorySwap = Memory, so exceeding the limit is an OOM kill (exit 137,
 *   oomKilled) rather than swapping.
 */
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { lstat, mkdir } from 'node:fs/promises';
import { sleep } from '../../async';
import type { HostStorage } from '../workspace/storage';
import { LineSplitter, LogLineQueue } from './lines';
import { STAGE_RUNNER_SCRIPT } from './stage-runner';
import { ExecutorError, type AttemptRef, type Executor, type ExecutorHandle, type ExitResult, type LogLine, type RunSetup, type StageJob } from './types';

export type PullPolicy = 'never' | 'if-missing' | 'always';
export type DockerNetworkMode = 'none' | 'host';

export interface DockerExecutorOptions {
  /** Where run workspaces and cache volumes are (bind-mounted into the containers). */
  storage: HostStorage;
  /** A ready dockerode instance; otherwise one is made from `dockerOptions`, else from DOCKER_HOST. */
  docker?: Docker;
  dockerOptions?: Docker.DockerOptions;
  /** Default `none`. */
  networkMode?: DockerNetworkMode;
  /** Default `never`: images must already be on the engine. */
  pullPolicy?: PullPolicy;
  /** Seconds between SIGTERM and SIGKILL on cancel (Docker's stop timeout). Default 3. */
  stopGraceSeconds?: number;
}

export const LABEL_RUN = 'buildit.run';
export const LABEL_STAGE = 'buildit.stage';
export const LABEL_ATTEMPT = 'buildit.attempt';
export const LABEL_ROLE = 'buildit.role';
export const LABEL_SERVICE = 'buildit.service';

function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function describeHost(docker: Docker): string {
  const modem = (docker as unknown as { modem?: { socketPath?: unknown; host?: unknown; port?: unknown } }).modem;
  if (typeof modem?.socketPath === 'string') return `unix://${modem.socketPath}`;
  if (typeof modem?.host === 'string') return `tcp://${modem.host}:${String(modem.port ?? '')}`;
  return 'the configured engine';
}

/** Docker container names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
function containerName(...parts: string[]): string {
  const base = parts
    .join('-')
    .replace(/[^a-zA-Z0-9_.-]+/g, '_')
    .replace(/^[^a-zA-Z0-9]+/, '')
    .slice(0, 180);
  return `${base || 'buildit'}-${randomBytes(3).toString('hex')}`;
}

export interface FoundContainer {
  id: string;
  names: string[];
  labels: Record<string, string>;
  /** Docker's state: created, running, exited, ... */
  state: string;
  role: 'stage' | 'service' | undefined;
}

/** All containers (running or not) carrying every given label; for crash recovery and cleanup. */
export async function findContainersByLabel(docker: Docker, labels: Record<string, string>): Promise<FoundContainer[]> {
  const filters = { label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) };
  const list = await docker.listContainers({ all: true, filters: JSON.stringify(filters) });
  return list.map((info) => {
    const role = info.Labels?.[LABEL_ROLE];
    return {
      id: info.Id,
      names: info.Names ?? [],
      labels: info.Labels ?? {},
      state: info.State,
      role: role === 'stage' || role === 'service' ? role : undefined,
    };
  });
}

/** Rebuilds the handle of an attempt from the engine (after a worker restart), or null if its stage container is gone. */
async function recoverDockerHandle(docker: Docker, attempt: { runId: string; stageId: string; attempt: number }): Promise<ExecutorHandle | null> {
  const found = await findContainersByLabel(docker, {
    [LABEL_RUN]: attempt.runId,
    [LABEL_STAGE]: attempt.stageId,
    [LABEL_ATTEMPT]: String(attempt.attempt),
  });
  const stage = found.find((c) => c.role === 'stage');
  if (!stage) return null;
  return { executor: 'docker', id: stage.id, related: found.filter((c) => c.role === 'service').map((c) => c.id) };
}

/** Force-removes every container carrying the labels (e.g. `{ 'buildit.run': runId }`); returns how many. */
export async function removeContainersByLabel(docker: Docker, labels: Record<string, string>): Promise<number> {
  const found = await findContainersByLabel(docker, labels);
  await Promise.all(found.map((c) => removeQuietly(docker, c.id)));
  return found.length;
}

async function removeQuietly(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (error) {
    const status = statusCodeOf(error);
    // 404: already gone; 409: removal already in progress.
    if (status !== 404 && status !== 409) throw error;
  }
}

/** Splits a non-TTY log body (8-byte frame headers: stream, 0, 0, 0, uint32 length) into the two splitters. */
function demuxBuffer(body: Buffer, stdout: LineSplitter, stderr: LineSplitter): void {
  let offset = 0;
  while (offset + 8 <= body.length) {
    const type = body[offset];
    const length = body.readUInt32BE(offset + 4);
    const payload = body.subarray(offset + 8, offset + 8 + length);
    if (type === 2) stderr.write(payload);
    else stdout.write(payload);
    offset += 8 + length;
  }
}

/** How long `stopAll` keeps force-removing a run's containers (one may be created while a listing runs). */
const STOP_ALL_CAP_MS = 2000;

export class DockerExecutor implements Executor {
  readonly name = 'docker';
  readonly survivesWorker = true;
  readonly docker: Docker;
  private readonly storage: HostStorage;
  readonly networkMode: DockerNetworkMode;
  readonly pullPolicy: PullPolicy;
  private readonly stopGraceSeconds: number;
  /** Exit results of waited attempts until `destroy` (wait may be called more than once). */
  private readonly results = new Map<string, ExitResult>();

  constructor(options: DockerExecutorOptions) {
    this.storage = options.storage;
    // dockerode's default constructor reads DOCKER_HOST (and DOCKER_TLS_VERIFY/DOCKER_CERT_PATH).
    this.docker = options.docker ?? new Docker(options.dockerOptions);
    const mode = options.networkMode ?? 'none';
    if (mode !== 'none' && mode !== 'host') {
      throw new Error(`docker executor: networkMode must be 'none' or 'host', not ${String(mode)}`);
    }
    this.networkMode = mode;
    this.pullPolicy = options.pullPolicy ?? 'never';
    this.stopGraceSeconds = options.stopGraceSeconds ?? 3;
  }

  async setupRun(run: RunSetup): Promise<void> {
    await this.storage.prepareRun(run.runId);
  }

  async teardownRun(runId: string): Promise<void> {
    await this.storage.removeWorkspace(runId);
  }

  async spawn(job: StageJob): Promise<ExecutorHandle> {
    if (!job.image) {
      throw new ExecutorError(`stage ${job.stageId} has no image; the docker executor needs one (set \`image\` on the stage)`, 'spawn_failed');
    }
    const workspace = this.storage.workspaceDir(job.runId);
    if (!(await lstat(workspace).catch(() => null))?.isDirectory()) {
      throw new ExecutorError(`the workspace of run ${job.runId} does not exist (${workspace}); the run was not set up on this executor`, 'no_workspace');
    }
    await this.ping();
    for (const image of new Set([job.image, ...job.services.map((s) => s.image)])) {
      try {
        await this.ensureImage(image, job.stageId);
      } catch (error) {
        if (error instanceof ExecutorError) throw error;
        throw new ExecutorError(`could not inspect image "${image}" for stage ${job.stageId}: ${(error as Error).message}`, 'spawn_failed');
      }
    }

    const baseLabels: Record<string, string> = {
      ...job.labels,
      [LABEL_RUN]: job.runId,
      [LABEL_STAGE]: job.stageId,
      [LABEL_ATTEMPT]: String(job.attempt),
    };
    const created: string[] = [];
    try {
      // Docker refuses a bind mount whose source is missing; a cache or scratch dir may not exist yet.
      const volumes = job.mounts.map((mount) => ({ ...mount, source: this.storage.volumeDir(mount.volume) }));
      for (const volume of volumes) await mkdir(volume.source, { recursive: true });
      // Services first, so they are up (started, not necessarily ready) when the commands run.
      for (const service of job.services) {
        const container = await this.docker.createContainer({
          name: containerName('buildit', job.runId, job.stageId, String(job.attempt), 'svc', service.name),
          Image: service.image,
          Env: Object.entries(service.env).map(([k, v]) => `${k}=${v}`),
          ...(service.command ? { Cmd: service.command } : {}),
          Labels: { ...baseLabels, [LABEL_ROLE]: 'service', [LABEL_SERVICE]: service.name },
          HostConfig: { NetworkMode: this.networkMode, Init: true },
        });
        created.push(container.id);
        await container.start();
      }

      const mounts: Docker.MountSettings[] = [
        { Type: 'bind', Source: workspace, Target: '/workspace', ReadOnly: false },
        ...volumes.map((v) => ({
          Type: 'bind' as const,
          Source: v.source,
          Target: path.posix.isAbsolute(v.path) ? v.path : path.posix.join('/workspace', v.path),
          ReadOnly: v.readOnly ?? false,
        })),
      ];
      const hostConfig: Docker.HostConfig = { NetworkMode: this.networkMode, Init: true, Mounts: mounts };
      // On the host network the services listen on the shared loopback: their names resolve to it.
      if (this.networkMode === 'host' && job.services.length > 0) {
        hostConfig.ExtraHosts = job.services.map((service) => `${service.name}:127.0.0.1`);
      }
      if (job.resources?.memoryBytes) {
        hostConfig.Memory = job.resources.memoryBytes;
        hostConfig.MemorySwap = job.resources.memoryBytes;
      }
      if (job.resources?.nanoCpus) hostConfig.NanoCpus = job.resources.nanoCpus;

      const stage = await this.docker.createContainer({
        name: containerName('buildit', job.runId, job.stageId, String(job.attempt)),
        Image: job.image,
        Entrypoint: ['/bin/sh', '-c', STAGE_RUNNER_SCRIPT, 'buildit-stage'],
        Cmd: job.commands,
        WorkingDir: '/workspace',
        Env: Object.entries(job.env).map(([k, v]) => `${k}=${v}`),
        Labels: { ...baseLabels, [LABEL_ROLE]: 'stage' },
        Tty: false,
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        HostConfig: hostConfig,
      });
      created.push(stage.id);
      await stage.start();
      return { executor: this.name, id: stage.id, related: created.slice(0, -1) };
    } catch (error) {
      await Promise.allSettled(created.map((id) => removeQuietly(this.docker, id)));
      if (error instanceof ExecutorError) throw error;
      throw new ExecutorError(`could not start the containers of stage ${job.stageId}: ${(error as Error).message}`, 'spawn_failed');
    }
  }

  private async ping(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (error) {
      throw new ExecutorError(
        `no Docker engine answers at ${describeHost(this.docker)} (${(error as Error).message}); start one (e.g. scripts/docker-engine.sh up) and set DOCKER_HOST`,
        'engine_unavailable',
      );
    }
  }

  private async ensureImage(image: string, stageId: string): Promise<void> {
    if (this.pullPolicy !== 'always') {
      try {
        await this.docker.getImage(image).inspect();
        return;
      } catch (error) {
        if (statusCodeOf(error) !== 404) throw error;
      }
      if (this.pullPolicy === 'never') {
        throw new ExecutorError(
          `image "${image}" (stage ${stageId}) is not on the Docker engine at ${describeHost(this.docker)}, and BuildIt never pulls images implicitly. ` +
            `Get it with \`docker pull ${image}\` or \`docker load -i IMAGE.tar\`, or set the docker executor's pull policy to "if-missing".`,
          'image_missing',
        );
      }
    }
    try {
      const stream = await this.docker.pull(image);
      await new Promise<void>((resolve, reject) => {
        this.docker.modem.followProgress(stream, (error: Error | null) => (error ? reject(error) : resolve()));
      });
    } catch (error) {
      throw new ExecutorError(
        `image "${image}" (stage ${stageId}) could not be pulled (pull policy ${this.pullPolicy}): ${(error as Error).message}. ` +
          `Load it into the engine with \`docker load -i IMAGE.tar\` or check the registry.`,
        'image_missing',
      );
    }
  }

  /**
   * Follows the container's log from its first line (the engine's stored order is the same for every
   * reader, which is what makes `skipLines` exact when re-attaching).
   *
   * Docker 20.10 can end a follow before it has stored a last line that had no newline (the copier
   * flushes it when the container's stdout closes, racing the follower). So when the follow ends, the
   * stored log is read once more (after the container stopped) and any lines past those already
   * emitted are emitted from that copy; partial lines are only ever emitted from it.
   */
  logs(handle: ExecutorHandle, options: { skipLines?: number } = {}): AsyncIterable<LogLine> {
    const queue = new LogLineQueue();
    const container = this.docker.getContainer(handle.id);
    void (async () => {
      try {
        let emitted = 0;
        const push = (stream: LogLine['stream']) => (line: string) => {
          emitted++;
          queue.push({ stream, line });
        };
        const raw = (await container.logs({ follow: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream;
        const stdout = new LineSplitter(push('stdout'));
        const stderr = new LineSplitter(push('stderr'));
        // demuxStream only calls write(); plain sinks keep it synchronous.
        const sink = (splitter: LineSplitter) => ({ write: (chunk: Buffer) => (splitter.write(chunk), true) }) as unknown as NodeJS.WritableStream;
        this.docker.modem.demuxStream(raw, sink(stdout), sink(stderr));
        await new Promise<void>((resolve, reject) => {
          raw.once('end', resolve);
          raw.once('close', resolve);
          raw.once('error', reject);
        });
        await container.wait().catch(() => undefined);
        const stored = (await container.logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer;
        let index = 0;
        const replay = (stream: LogLine['stream']) => (line: string) => {
          if (index++ >= emitted) queue.push({ stream, line });
        };
        const outAgain = new LineSplitter(replay('stdout'));
        const errAgain = new LineSplitter(replay('stderr'));
        demuxBuffer(Buffer.isBuffer(stored) ? stored : Buffer.from(String(stored)), outAgain, errAgain);
        outAgain.end();
        errAgain.end();
        queue.end();
      } catch (error) {
        if (statusCodeOf(error) === 404) queue.end();
        else queue.end(new ExecutorError(`lost the logs of container ${handle.id.slice(0, 12)}: ${(error as Error).message}`, 'lost'));
      }
    })();
    return queue.drain(options.skipLines ?? 0);
  }

  async wait(handle: ExecutorHandle): Promise<ExitResult> {
    const known = this.results.get(handle.id);
    if (known) return known;
    const container = this.docker.getContainer(handle.id);
    try {
      const waited = (await container.wait()) as { StatusCode: number };
      const info = await container.inspect();
      if (!info.State.StartedAt || info.State.StartedAt.startsWith('0001-')) {
        // Created but never started (a worker died between create and start): not a success.
        return { exitCode: -1, oomKilled: false, error: `container ${handle.id.slice(0, 12)} was created but never started` };
      }
      const result: ExitResult = { exitCode: waited.StatusCode, oomKilled: info.State.OOMKilled === true };
      this.results.set(handle.id, result);
      return result;
    } catch (error) {
      if (statusCodeOf(error) === 404) {
        return { exitCode: -1, oomKilled: false, error: `container ${handle.id.slice(0, 12)} vanished before it was waited for` };
      }
      throw error;
    }
  }

  async cancel(handle: ExecutorHandle): Promise<void> {
    const stop = async (id: string) => {
      try {
        await this.docker.getContainer(id).stop({ t: this.stopGraceSeconds });
      } catch (error) {
        const status = statusCodeOf(error);
        // 304: already stopped; 404: gone.
        if (status !== 304 && status !== 404) throw error;
      }
    };
    if (!handle.id) return;
    await Promise.all([stop(handle.id), ...handle.related.map(stop)]);
  }

  async destroy(handle: ExecutorHandle): Promise<void> {
    const ids = [handle.id, ...handle.related].filter((id) => id);
    await Promise.all(ids.map((id) => removeQuietly(this.docker, id)));
    this.results.delete(handle.id);
  }

  recover(attempt: AttemptRef): Promise<ExecutorHandle | null> {
    return recoverDockerHandle(this.docker, attempt);
  }

  /** Force-removes every container of the run until none is listed any more, for at most STOP_ALL_CAP_MS. */
  async stopAll(runId: string): Promise<void> {
    const deadline = Date.now() + STOP_ALL_CAP_MS;
    while (Date.now() < deadline) {
      const found = await removeContainersByLabel(this.docker, { [LABEL_RUN]: runId }).catch(() => 1);
      if (found === 0) return;
      await sleep(100);
    }
  }
}

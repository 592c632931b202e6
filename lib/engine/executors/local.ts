/**
 * `local` executor: runs a stage's commands as host processes in the run's workspace.
 *
 * - One process group per attempt, so the handle id (the pgid) stays the same for the whole attempt
 *   and `cancel` reaches every command and all their children. A stage of ONE command runs as that
 *   command's own `sh -e -c COMMAND` (exactly what the runner would start for it, minus the runner):
 *   cancel sends SIGTERM to the whole group. A stage of several commands is led by a small `sh`
 *   runner (STAGE_RUNNER_SCRIPT) that runs every command as `sh -e -c COMMAND` in order and stops at
 *   the first non-zero exit; cancel sends SIGTERM to the runner, which forwards it once to the group.
 *   Either way SIGKILL goes to the whole group after `graceMs`, and a cancelled stage exits 143 (137
 *   if it had to be killed). `killAll()` SIGKILLs every group at once (a second Ctrl-C).
 * - Processes are started by a small long-lived perl "spawn helper" (see SpawnHelper) rather than by
 *   forking this (large) Node process for each stage; without perl, Node's spawn is used, with the
 *   same behaviour.
 * - env = job.env, plus PATH and HOME from the worker's environment when the job does not set them
 *   (so host tools are found). Nothing else leaks from the worker's environment.
 * - When the leader exits, whatever is left in its process group (background jobs) is SIGKILLed, as
 *   a container's processes die with its PID 1. Processes that left the group (setsid) are not ours.
 * - `images` and `services` are ignored on local: there is no image to run in and no sidecar.
 *   `resources` are not enforced (no cgroups here).
 * - `mounts`: containerPath must be relative; it is resolved inside the workspace and must stay in it.
 *   Strategy: a writable mount becomes a SYMLINK workspace/containerPath -> hostPath (zero copy; what
 *   the stage writes lands in hostPath, which is what caches need). A `readOnly` mount is COPIED into
 *   the workspace (writes cannot reach the source). Both are removed again by `destroy()`. A path
 *   that already exists in the workspace as a real file/directory is kept and the mount is skipped,
 *   with a `buildit: ...` line on stderr (we never delete the user's files, e.g. node_modules in an
 *   in-place run); an existing symlink (left by a crashed attempt) is replaced.
 * - Re-attaching after a worker crash: a handle this process did not spawn can be `status`ed and
 *   `cancel`led through its pgid; its output and exit code are not recoverable (the pipes died with
 *   the old worker), so `logs` yields nothing and `wait` resolves with `error` once the group is gone.
 */
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsConstants, openSync, rmSync, writeSync } from 'node:fs';
import { access, cp, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, unlink } from 'node:fs/promises';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  ExecutorError,
  type Executor,
  type ExecutorHandle,
  type ExitResult,
  type HandleStatus,
  type LogLine,
  type StageJob,
} from './types';

/**
 * The stage runner, shared by the local and docker executors so both run commands identically: each
 * positional argument is one command, run as `sh -e -c COMMAND` in order; the first non-zero exit ends
 * the stage with that code.
 *
 * On SIGTERM the runner sends SIGTERM once to its whole process group (`kill 0`: every command and
 * their children), waits for the current command to finish its own cleanup, and exits 143 without
 * starting the next command. The command runs in the background + `wait` only because `wait` is
 * interruptible by a trapped signal (a foreground command would delay the trap until it ends). This
 * matters in containers: docker-init (tini) forwards SIGTERM to the runner only.
 */
export const STAGE_RUNNER_SCRIPT = [
  'trap \'if [ -z "$buildit_cancelled" ]; then buildit_cancelled=1; kill -TERM 0 2>/dev/null; fi\' TERM',
  'for buildit_command in "$@"; do',
  '  sh -e -c "$buildit_command" & buildit_pid=$!',
  '  while :; do wait "$buildit_pid"; buildit_rc=$?; kill -0 "$buildit_pid" 2>/dev/null || break; done',
  '  [ -z "$buildit_cancelled" ] || exit 143',
  '  [ "$buildit_rc" -eq 0 ] || exit "$buildit_rc"',
  'done',
].join('\n');

// ---------------------------------------------------------------------------------------------
// Lines: shared by the executors.

/** Splits one byte stream into lines: handles chunks cut mid-line or mid-UTF-8, `\r\n`, and a last line without newline. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  write(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.emit(text.slice(start, end));
      start = nl + 1;
    }
    this.partial = text.slice(start);
  }

  /** Emits the final line if the stream did not end with a newline. */
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    if (rest.length > 0) this.emit(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  }
}

/**
 * An unbounded single-consumer queue of log lines, buffered from spawn time so that a `logs()` call
 * made later misses nothing. `skipLines` drops the first N lines (re-attach without duplicates).
 */
export class LogLineQueue {
  private lines: LogLine[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private consumed = false;

  push(line: LogLine): void {
    this.lines.push(line);
    this.notify();
  }

  end(error?: Error): void {
    this.ended = true;
    this.failure = error;
    this.notify();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *drain(skipLines = 0): AsyncGenerator<LogLine> {
    if (this.consumed) throw new Error('logs() may be called only once per handle');
    this.consumed = true;
    let skip = skipLines;
    for (;;) {
      // Take everything queued so far and start a new queue: O(1), and consumed lines are released
      // batch by batch (shifting the consumed front off one array cost O(n) per batch, quadratic when
      // the command prints faster than the consumer reads).
      const batch = this.lines;
      this.lines = [];
      for (const line of batch) {
        if (skip > 0) {
          skip--;
          continue;
        }
        yield line;
      }
      if (this.lines.length > 0) continue;
      if (this.ended) {
        if (this.failure) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The spawn helper.

/**
 * A tiny long-lived perl process that starts the stage processes for one LocalExecutor. `spawn()`
 * from Node forks the whole (~100 MB) Node process, which costs milliseconds per stage; a fork of
 * this helper (~7 MB) costs a fraction of that. perl is used because it is always there on Debian
 * (perl-base is Essential) and most CI images, and it has fork/setsid/dup2/exec/mkfifo; without it
 * the executor spawns from Node as before (identical behaviour, only slower).
 *
 * Protocol. Node -> helper on stdin: `LENGTH\n` then LENGTH bytes `F\0id`: fork a spare for request
 * `id`. Helper -> Node on stdout, one line each: `R pid` ready; `F id pid` the spare is waiting;
 * `P id pid` its exec succeeded (pid is the stage's pgid); `X id status` it exited (raw wait status;
 * the helper has SIGKILLed what was left of its process group); `E id message` it failed, nothing runs.
 *
 * For `F` the helper makes three FIFOs DIR/id.{1,2,0} (stdout, stderr, request) and forks a spare,
 * which does setsid (its own session and process group, like `detached: true`) and waits on the
 * request FIFO. Node opens the stdout/stderr read ends and the request write end, and keeps up to
 * two spares ready. To start a stage, Node writes `cwd\0file\0argc\0argv...\0NAME=VALUE...` to the
 * request FIFO of a spare and closes it; the spare opens the output FIFOs as its stdout/stderr
 * (stdin is /dev/null), unlinks the FIFOs, checks and enters the workspace, takes the job's
 * environment only, and execs. So the fork is off the critical path, and a start is one write. A
 * close-on-exec pipe tells the helper whether exec worked (as libuv does). The helper reaps its
 * children (a pidfd, else SIGCHLD, wakes its select loop). It is in its own session (a terminal's
 * Ctrl-C never reaches it); when its stdin closes (the worker exited, or `close()`) it takes no more
 * requests and exits once its stages have ended; an idle spare exits when its request FIFO closes.
 */
const SPAWN_HELPER_SCRIPT = String.raw`
use strict;
use POSIX ();
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK O_RDONLY O_WRONLY);
my $dir = shift @ARGV;
my %spare;    # pid -> { id, status }: forked, waiting for its request or not yet known to have exec'd
my %running;  # pid -> id: exec'd, reported with P
my %pidfd;    # pid -> pidfd
# A child's exit makes its pidfd readable (Linux >= 5.3), which wakes select(). Without pidfds, the
# SIGCHLD handler makes select() return (EINTR), and a short timeout covers a signal that arrives
# between reaping and select().
my $arch = (POSIX::uname())[4];
my $pidfds = $^O eq 'linux' && $arch =~ /^(x86_64|i[3-6]86|aarch64|arm|riscv64|ppc64|s390x)/;
$SIG{CHLD} = sub {};
# If the worker is gone, replies fail (EPIPE) and the helper still finishes and cleans up.
$SIG{PIPE} = 'IGNORE';
sub reply { my $m = join(' ', @_); $m =~ s/[\r\n]+/ /g; syswrite(STDOUT, "$m\n"); }
sub fifos { my $id = shift; return ("$dir/$id.1", "$dir/$id.2", "$dir/$id.0"); }
sub drain {
  my $fh = shift;
  my $text = '';
  while (1) {
    my $n = sysread($fh, my $chunk, 65536);
    if ($n) { $text .= $chunk; next; }
    last if defined $n || $! != POSIX::EINTR();
  }
  return $text;
}
# A spare's status pipe is close-on-exec: EOF with nothing written means exec succeeded.
sub settle {
  my $pid = shift;
  my $s = delete $spare{$pid} or return;
  my $err = drain($s->{status});
  close($s->{status});
  if ($err eq '') { $running{$pid} = $s->{id}; reply('P', $s->{id}, $pid); }
  elsif ($err ne 'idle') { reply('E', $s->{id}, $err); }
}
sub reap {
  while (1) {
    my $pid = waitpid(-1, POSIX::WNOHANG());
    last if $pid <= 0;
    my $status = $?;
    settle($pid);
    POSIX::close(delete $pidfd{$pid}) if exists $pidfd{$pid};
    my $id = delete $running{$pid};
    next unless defined $id;
    # Background jobs left in the group die with the stage (the pgid cannot be reused before this).
    kill('KILL', -$pid);
    reply('X', $id, $status);
  }
}
reply('R', $$);
my $buf = '';
my $open = 1;
while (1) {
  reap();
  last unless $open || %running || %spare;
  my $rin = '';
  vec($rin, 0, 1) = 1 if $open;
  vec($rin, $_, 1) = 1 for values %pidfd;
  vec($rin, fileno($_->{status}), 1) = 1 for values %spare;
  my $polling = grep { !exists $pidfd{$_} } (keys %running, keys %spare);
  my $n = select(my $rout = $rin, undef, undef, $polling ? 0.02 : undef);
  next if $n <= 0;
  for my $pid (keys %spare) { settle($pid) if vec($rout, fileno($spare{$pid}{status}), 1); }
  next if !$open || !vec($rout, 0, 1);
  my $got = sysread(STDIN, $buf, 65536, length($buf));
  next if !defined $got && $! == POSIX::EINTR();
  if (!$got) { $open = 0; next; }
  while ((my $nl = index($buf, "\n")) >= 0) {
    my $len = substr($buf, 0, $nl);
    last if length($buf) < $nl + 1 + $len;
    my $msg = substr($buf, $nl + 1, $len);
    substr($buf, 0, $nl + 1 + $len) = '';
    my ($op, $id) = split /\0/, $msg, -1;
    fork_spare($id) if $op eq 'F';
  }
}
if (opendir(my $d, $dir)) { unlink map { "$dir/$_" } grep { $_ ne '.' && $_ ne '..' } readdir($d); closedir($d); rmdir($dir); }
exit 0;

# A spare: forked ahead of time, in its own session, waiting on its request FIFO for the worker to
# write the job (cwd, file, argc, argv..., NAME=VALUE...) and close it; then it execs the job.
sub fork_spare {
  my $id = shift;
  my @f = fifos($id);
  my ($req, $r, $w);
  unless (POSIX::mkfifo($f[0], 0600) && POSIX::mkfifo($f[1], 0600) && POSIX::mkfifo($f[2], 0600)) {
    my $e = "$!"; unlink @f; reply('E', $id, "cannot create pipes in $dir: $e"); return;
  }
  unless (sysopen($req, $f[2], O_RDONLY | O_NONBLOCK) && pipe($r, $w)) { my $e = "$!"; unlink @f; reply('E', $id, "cannot open pipes: $e"); return; }
  my $pid = fork();
  unless (defined $pid) { my $e = "$!"; unlink @f; reply('E', $id, "fork: $e"); return; }
  if ($pid == 0) { close($r); spare($req, $w, @f); }
  close($w);
  close($req);
  $spare{$pid} = { id => $id, status => $r };
  if ($pidfds) {
    my $fd = syscall(434, $pid + 0, 0);
    if (defined $fd && $fd >= 0) { $pidfd{$pid} = $fd; } else { $pidfds = 0; }
  }
  reply('F', $id, $pid);
}

sub spare {
  my ($req, $w, @f) = @_;
  # An ignored signal stays ignored across exec: the stage gets the defaults.
  $SIG{CHLD} = 'DEFAULT';
  $SIG{PIPE} = 'DEFAULT';
  # The helper's stdin/stdout/stderr are its pipes to the worker: not ours to hold.
  open(STDIN, '<', '/dev/null');
  open(STDOUT, '>', '/dev/null');
  open(STDERR, '>', '/dev/null');
  my $err;
  my $sid = POSIX::setsid();
  $err = "setsid: $!" if !defined $sid || $sid < 0;
  # select() reports the FIFO readable only once the worker has connected (data or its close).
  my $rin = '';
  vec($rin, fileno($req), 1) = 1;
  my $msg = '';
  while (1) {
    my $n = select(my $rout = $rin, undef, undef, undef);
    next if $n < 0 && $! == POSIX::EINTR();
    my $got = sysread($req, $msg, 65536, length($msg));
    last if defined $got && $got == 0;
    last if !defined $got && $! != POSIX::EAGAIN() && $! != POSIX::EINTR();
  }
  if ($msg eq '') { unlink @f; syswrite($w, 'idle'); POSIX::_exit(0); }
  my ($cwd, $file, $argc, @rest) = split /\0/, $msg, -1;
  my @argv = splice(@rest, 0, $argc);
  my @out;
  for my $path (@f[0, 1]) {
    my $fh;
    last if $err;
    if (sysopen($fh, $path, O_WRONLY | O_NONBLOCK)) { fcntl($fh, F_SETFL, fcntl($fh, F_GETFL, 0) & ~O_NONBLOCK); push @out, $fh; }
    else { $err = "cannot open pipe: $!"; }
  }
  unlink @f;
  if ($err) { }
  elsif (-l $cwd || !-d _) { $err = "workspace: not a directory"; }
  elsif (!chdir($cwd)) { $err = "workspace: $!"; }
  elsif (!defined POSIX::dup2(fileno($out[0]), 1) || !defined POSIX::dup2(fileno($out[1]), 2)) { $err = "dup2: $!"; }
  else {
    %ENV = ();
    for my $pair (@rest) { my $i = index($pair, '='); $ENV{substr($pair, 0, $i)} = substr($pair, $i + 1) if $i > 0; }
    exec { $file } @argv;
    $err = "cannot run $file: $!";
  }
  syswrite($w, $err);
  POSIX::_exit(127);
}
`;

/** How a started process ended: its exit code or signal, or null when that is unknowable. */
type ProcessEnd = { code: number | null; signal: number | null } | null;

/** A started stage process: pgid === pid, its output pipes and its end. */
interface Launched {
  pid: number;
  /** The launcher already SIGKILLed what was left of the group when the leader exited. */
  groupKilled: boolean;
  stdout: Readable;
  stderr: Readable;
  ended: Promise<ProcessEnd>;
}

interface HelperRequest {
  phase: 'fifo' | 'start' | 'running';
  resolve: (fields: string[]) => void;
  reject: (error: Error) => void;
  onEnd: (end: ProcessEnd) => void;
}

/**
 * FIFO directories of live helpers, removed when this process exits (a helper cleans its own up when
 * it ends, unless it was killed; its running stages no longer need the paths by then).
 */
const helperDirs = new Set<string>();
let exitHookInstalled = false;

function trackHelperDir(dir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const tracked of helperDirs) rmSync(tracked, { recursive: true, force: true });
    });
  }
  helperDirs.add(dir);
}

class SpawnHelper {
  private readonly requests = new Map<number, HelperRequest>();
  private nextId = 1;
  private pending = '';
  private stderrTail = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  get alive(): boolean {
    return !this.exited;
  }

  /** Starts perl; resolves null when it cannot run here (no perl, no POSIX module). */
  static async start(): Promise<SpawnHelper | null> {
    // FIFOs are made and removed per stage: on tmpfs that costs no filesystem journal.
    const base = await access('/dev/shm', fsConstants.W_OK).then(
      () => '/dev/shm',
      () => tmpdir(),
    );
    const dir = await mkdtemp(path.join(base, 'buildit-spawn-'));
    trackHelperDir(dir);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
    let child: ChildProcess;
    try {
      child = spawnProcess('perl', ['-e', SPAWN_HELPER_SCRIPT, dir], {
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: env as NodeJS.ProcessEnv,
      });
    } catch {
      helperDirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
      return null;
    }
    const helper = new SpawnHelper(child, dir);
    const ready = await new Promise<boolean>((resolve) => {
      helper.onReady = resolve;
      child.once('error', () => resolve(false));
      child.once('exit', () => resolve(false));
      helper.listen();
    });
    helper.onReady = undefined;
    if (!ready) {
      helper.close();
      helperDirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
      return null;
    }
    child.unref();
    helper.updateRef();
    return helper;
  }

  private onReady: ((ready: boolean) => void) | undefined;

  private listen(): void {
    const { child } = this;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      this.pending += text;
      for (let nl = this.pending.indexOf('\n'); nl !== -1; nl = this.pending.indexOf('\n')) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        this.onLine(line);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-2000);
    });
    child.stdin!.on('error', () => {});
    child.on('error', () => {});
    child.once('exit', () => {
      this.exited = true;
    });
    // After the helper's last reply has been read: whatever is still in flight will never be answered.
    child.once('close', () => {
      this.exited = true;
      for (const [id, request] of this.requests) {
        this.requests.delete(id);
        if (request.phase === 'running') request.onEnd(null);
        else request.reject(new Error(`the spawn helper exited${this.diagnostics()}`));
      }
      for (const spare of this.ready.splice(0)) SpawnHelper.discard(spare);
      this.updateRef();
      void rm(this.dir, { recursive: true, force: true })
        .then(() => helperDirs.delete(this.dir))
        .catch(() => {});
    });
  }

  private diagnostics(): string {
    const tail = this.stderrTail.trim();
    return tail ? `: ${tail}` : '';
  }

  private fail(id: number, request: HelperRequest, error: Error): void {
    this.requests.delete(id);
    this.updateRef();
    request.reject(error);
  }

  private onLine(line: string): void {
    const [kind, idText, ...rest] = line.split(' ');
    if (kind === 'R') {
      this.onReady?.(true);
      return;
    }
    const id = Number(idText);
    const request = this.requests.get(id);
    if (!request) return;
    switch (kind) {
      case 'F':
        request.resolve([]);
        break;
      case 'P':
        request.phase = 'running';
        request.resolve([rest[0] ?? '']);
        break;
      case 'X': {
        const status = Number(rest[0]);
        this.requests.delete(id);
        this.updateRef();
        const signal = status & 0x7f;
        request.onEnd(status < 0 ? null : signal ? { code: null, signal } : { code: (status >> 8) & 0xff, signal: null });
        break;
      }
      case 'E':
        this.fail(id, request, new Error(rest.join(' ')));
        break;
    }
  }

  /** Keeps the event loop alive only while something is in flight, so an idle helper never holds a process open. */
  private updateRef(): void {
    const streams = [this.child.stdout, this.child.stderr, this.child.stdin] as Array<(Readable | Writable) & { ref?: () => void; unref?: () => void }>;
    const busy = this.requests.size > 0;
    for (const stream of streams) (busy ? stream?.ref : stream?.unref)?.call(stream);
  }

  private outbox: Buffer[] = [];

  /** Requests made in the same tick go out in one write. */
  private send(fields: string[]): void {
    const payload = Buffer.from(fields.join('\0'), 'utf8');
    this.outbox.push(Buffer.from(`${payload.length}\n`), payload);
    if (this.outbox.length > 2) return;
    queueMicrotask(() => {
      const chunks = this.outbox;
      this.outbox = [];
      if (!this.exited) this.child.stdin!.write(Buffer.concat(chunks));
    });
  }

  /** Registers what `request` waits for next; rejected at once if the helper is gone. */
  private expect(request: HelperRequest, phase: HelperRequest['phase']): Promise<string[]> {
    return new Promise<string[]>((resolve, reject) => {
      request.phase = phase;
      request.resolve = resolve;
      request.reject = reject;
      if (this.exited) reject(new Error(`the spawn helper exited${this.diagnostics()}`));
    });
  }

  /** Spares forked ahead of time, their FIFOs open on our side, so a launch is one write to the spare. */
  private readonly ready: Spare[] = [];
  private preparing = 0;
  private closing = false;

  private fifoPaths(id: number): string[] {
    return [path.join(this.dir, `${id}.1`), path.join(this.dir, `${id}.2`), path.join(this.dir, `${id}.0`)];
  }

  private static discard(spare: Spare): void {
    for (const fd of [...spare.output, spare.request]) {
      if (fd < 0) continue;
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    spare.request = -1;
    spare.output = [];
  }

  /** Has the helper fork a spare, and opens its FIFOs: output read ends, request write end (all non-blocking: they open at once). */
  private async prepare(): Promise<Spare> {
    const id = this.nextId++;
    const request: HelperRequest = { phase: 'fifo', resolve: () => {}, reject: () => {}, onEnd: () => {} };
    this.requests.set(id, request);
    this.updateRef();
    const spare: Spare = { id, output: [], request: -1 };
    try {
      const forked = this.expect(request, 'fifo');
      this.send(['F', String(id)]);
      await forked;
      this.requests.delete(id);
      this.updateRef();
      const [out, err, req] = this.fifoPaths(id) as [string, string, string];
      spare.output.push(openSync(out, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK));
      spare.output.push(openSync(err, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK));
      spare.request = openSync(req, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      return spare;
    } catch (error) {
      this.requests.delete(id);
      this.updateRef();
      SpawnHelper.discard(spare);
      for (const fifo of this.fifoPaths(id)) await unlink(fifo).catch(() => {});
      throw error;
    }
  }

  private refill(): void {
    while (!this.exited && !this.closing && this.ready.length + this.preparing < 2) {
      this.preparing++;
      this.prepare()
        .then((spare) => {
          if (this.exited || this.closing) SpawnHelper.discard(spare);
          else this.ready.push(spare);
        })
        .catch(() => {})
        .finally(() => this.preparing--);
    }
  }

  async launch(file: string, argv: string[], cwd: string, env: Record<string, string>): Promise<Launched> {
    const fields = [cwd, file, String(argv.length), ...argv, ...Object.entries(env).map(([name, value]) => `${name}=${value}`)];
    if (fields.some((field) => field.includes('\0'))) throw new Error('a command, the workspace path or an environment variable contains a NUL byte');
    if (Object.keys(env).some((name) => name === '' || name.includes('='))) throw new Error('an environment variable name is empty or contains "="');
    const job = Buffer.from(fields.join('\0'), 'utf8');
    // A spare that died while waiting (killed from outside) refuses the write: take another one.
    for (let tries = 0; ; tries++) {
      if (this.exited || this.closing) throw new Error(`the spawn helper exited${this.diagnostics()}`);
      const spare = this.ready.shift() ?? (await this.prepare());
      let resolveEnd!: (end: ProcessEnd) => void;
      const ended = new Promise<ProcessEnd>((resolve) => {
        resolveEnd = resolve;
      });
      const request: HelperRequest = { phase: 'start', resolve: () => {}, reject: () => {}, onEnd: resolveEnd };
      this.requests.set(spare.id, request);
      this.updateRef();
      const started = this.expect(request, 'start');
      started.catch(() => {});
      try {
        await writeAll(spare.request, job);
        closeSync(spare.request);
        spare.request = -1;
      } catch (error) {
        this.requests.delete(spare.id);
        this.updateRef();
        SpawnHelper.discard(spare);
        for (const fifo of this.fifoPaths(spare.id)) await unlink(fifo).catch(() => {});
        if (tries < 2 && (error as NodeJS.ErrnoException).code === 'EPIPE') continue;
        throw error;
      }
      this.refill();
      try {
        const [pid] = await started;
        // Read only now: the process opened the write ends before its exec, so an early EOF is impossible.
        const [stdout, stderr] = spare.output.map((fd) => new Socket({ fd, readable: true, writable: false }));
        return { pid: Number(pid), groupKilled: true, stdout: stdout!, stderr: stderr!, ended };
      } catch (error) {
        this.requests.delete(spare.id);
        this.updateRef();
        SpawnHelper.discard(spare);
        for (const fifo of this.fifoPaths(spare.id)) await unlink(fifo).catch(() => {});
        throw error;
      }
    }
  }

  /** Ends the helper once the stages it started have ended (idle spares exit when their FIFO closes). */
  close(): void {
    this.closing = true;
    for (const spare of this.ready.splice(0)) SpawnHelper.discard(spare);
    this.child.stdin?.end();
  }
}

interface Spare {
  id: number;
  /** Read ends of the stdout and stderr FIFOs. */
  output: number[];
  /** Write end of the request FIFO (-1 once written and closed). */
  request: number;
}

/** Writes all of `data` to a non-blocking pipe fd: at once when it fits (the usual case), else as the reader drains it. */
async function writeAll(fd: number, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset, data.length - offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      await sleep(1);
    }
  }
}

// ---------------------------------------------------------------------------------------------

export interface LocalExecutorOptions {
  /** Time between SIGTERM and SIGKILL on cancel, in ms. Default 3000. */
  graceMs?: number;
  /** Shell used for the runner and for every command. Default `/bin/sh`. */
  shell?: string;
  /**
   * Start stage processes through the spawn helper (a small perl process) instead of forking the
   * worker. Default true, unless BUILDIT_LOCAL_SPAWN_HELPER=0. Without perl it falls back to Node.
   */
  spawnHelper?: boolean;
}

interface MaterializedMount {
  target: string;
  kind: 'symlink' | 'copy';
}

interface LocalAttempt {
  pgid: number;
  /** `direct`: the leader is the command's own `sh -e -c` (one command); `runner`: STAGE_RUNNER_SCRIPT. */
  mode: 'direct' | 'runner';
  queue: LogLineQueue;
  exited: boolean;
  result: Promise<ExitResult>;
  mounts: MaterializedMount[];
  cancelling: Promise<void> | undefined;
  /** A cancel's SIGTERM reached the group (direct mode reports 143/137 then, as the runner does). */
  terminated: boolean;
}

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/**
 * True when the process group has a member that is not a zombie. `kill(-pgid, 0)` alone also counts
 * zombies, and orphaned zombies can linger when PID 1 is slow to reap (as in some sandboxes), so on
 * Linux the group is read from /proc.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  let exists: boolean;
  try {
    exists = signalGroup(pgid, 0);
  } catch (error) {
    // EPERM: the group exists but belongs to someone else.
    exists = (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (!exists || process.platform !== 'linux') return exists;
  const entries = await readdir('/proc').catch(() => null);
  if (!entries) return exists;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Fields after "(comm)": state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

/** Whether the leader of a group we did not start is a stage runner (it forwards SIGTERM itself). */
async function leaderIsRunner(pgid: number): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pgid}/cmdline`, 'utf8').catch(() => null);
  return cmdline === null || cmdline.split('\0').includes('buildit-stage');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

export class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly graceMs: number;
  private readonly shell: string;
  private readonly useHelper: boolean;
  private helper: Promise<SpawnHelper | null> | undefined;
  private killedAll = false;
  private readonly attempts = new Map<string, LocalAttempt>();

  constructor(options: LocalExecutorOptions = {}) {
    this.graceMs = options.graceMs ?? 3000;
    this.shell = options.shell ?? '/bin/sh';
    this.useHelper = options.spawnHelper ?? process.env.BUILDIT_LOCAL_SPAWN_HELPER !== '0';
  }

  async spawn(job: StageJob): Promise<ExecutorHandle> {
    const workspace = path.resolve(job.workspace);
    const noWorkspace = () => new ExecutorError(`workspace ${workspace} of stage ${job.stageId} does not exist or is not a directory`, 'spawn_failed');
    const helper = await this.spawnHelper();
    // The spawn helper checks the workspace itself (same test), which saves a round trip per stage.
    if (!helper || job.mounts.length > 0) {
      try {
        const stat = await lstat(workspace);
        if (!stat.isDirectory()) throw new Error('not a directory');
      } catch {
        throw noWorkspace();
      }
    }
    const notices: string[] = [];
    const mounts = await this.materializeMounts(workspace, job, notices);

    const env: Record<string, string> = { ...job.env };
    for (const name of ['PATH', 'HOME'] as const) {
      if (env[name] === undefined && process.env[name] !== undefined) env[name] = process.env[name]!;
    }

    // One command: its own `sh -e -c` is the whole stage (one shell, not a runner plus a shell); it is
    // exactly what the runner would run for it. Several: the runner, which runs each in its own shell.
    const mode: LocalAttempt['mode'] = job.commands.length === 1 ? 'direct' : 'runner';
    const argv = mode === 'direct' ? ['sh', '-e', '-c', job.commands[0]!] : [this.shell, '-c', STAGE_RUNNER_SCRIPT, 'buildit-stage', ...job.commands];

    let launched: Launched;
    try {
      launched = await this.launch(helper, argv, workspace, env);
    } catch (error) {
      await this.removeMounts(mounts);
      if ((error as Error).message.startsWith('workspace: ')) throw noWorkspace();
      throw new ExecutorError(`could not start ${this.shell} for stage ${job.stageId}: ${(error as Error).message}`, 'spawn_failed');
    }
    const pgid = launched.pid;
    if (this.killedAll) signalGroup(pgid, 'SIGKILL');
    const queue = new LogLineQueue();
    for (const line of notices) queue.push({ stream: 'stderr', line });
    const closed = (['stdout', 'stderr'] as const).map(
      (stream) =>
        new Promise<void>((resolve) => {
          const splitter = new LineSplitter((line) => queue.push({ stream, line }));
          const source = launched[stream];
          source.on('data', (chunk: Buffer) => splitter.write(chunk));
          source.on('error', () => {});
          source.once('close', () => {
            splitter.end();
            resolve();
          });
        }),
    );
    void Promise.all(closed).then(() => queue.end());

    const attempt: LocalAttempt = {
      pgid,
      mode,
      queue,
      exited: false,
      mounts,
      cancelling: undefined,
      terminated: false,
      result: launched.ended.then(async (end) => {
        attempt.exited = true;
        // Background jobs left in the group die with the stage (like processes in a container).
        try {
          if (!launched.groupKilled) signalGroup(pgid, 'SIGKILL');
        } catch {
          /* ignore */
        }
        // Resolve after the output is fully read (the contract reads logs before wait).
        await Promise.all(closed);
        if (end === null) return { exitCode: -1, oomKilled: false, error: 'the spawn helper of the local executor died; the exit code of the stage is lost' };
        let exitCode = end.code ?? 128 + (end.signal ?? 0);
        // Like the runner: a cancelled stage exits 143, or 137 if it had to be killed.
        if (mode === 'direct' && attempt.terminated) exitCode = end.signal === 9 ? 137 : 143;
        return { exitCode, oomKilled: false };
      }),
    };
    this.attempts.set(String(pgid), attempt);
    return { executor: this.name, id: String(pgid), related: [] };
  }

  /** The spawn helper, started on first use (and again if it died); null when not used or not available. */
  private async spawnHelper(): Promise<SpawnHelper | null> {
    if (!this.useHelper) return null;
    let helper = await (this.helper ??= SpawnHelper.start());
    if (helper && !helper.alive) {
      this.helper = SpawnHelper.start();
      helper = await this.helper;
    }
    return helper;
  }

  /** Starts `argv` in its own session and process group: through the spawn helper, else from Node. */
  private async launch(helper: SpawnHelper | null, argv: string[], cwd: string, env: Record<string, string>): Promise<Launched> {
    const file = argv[0] === 'sh' ? this.shell : argv[0]!;
    if (helper) return helper.launch(file, argv, cwd, env);
    const child = spawnProcess(file, argv.slice(1), {
      argv0: argv[0],
      cwd,
      env: env as NodeJS.ProcessEnv,
      detached: true, // new session + process group: pgid === pid
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once('spawn', () => resolve(null));
      child.once('error', (error) => resolve(error));
    });
    if (spawned || child.pid === undefined) throw spawned ?? new Error('no pid');
    const ended = new Promise<ProcessEnd>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal: signal ? (SIGNAL_NUMBERS[signal] ?? 0) : null }));
    });
    return { pid: child.pid, groupKilled: false, stdout: child.stdout!, stderr: child.stderr!, ended };
  }

  logs(handle: ExecutorHandle, options: { skipLines?: number } = {}): AsyncIterable<LogLine> {
    const attempt = this.attempts.get(handle.id);
    if (!attempt) return (async function* () {})();
    return attempt.queue.drain(options.skipLines ?? 0);
  }

  async wait(handle: ExecutorHandle): Promise<ExitResult> {
    const attempt = this.attempts.get(handle.id);
    if (attempt) return attempt.result;
    const pgid = Number(handle.id);
    while (Number.isInteger(pgid) && pgid > 1 && (await groupAlive(pgid))) await sleep(100);
    return { exitCode: -1, oomKilled: false, error: `process group ${handle.id} was not started by this worker; its exit code is lost` };
  }

  async status(handle: ExecutorHandle): Promise<HandleStatus> {
    const attempt = this.attempts.get(handle.id);
    if (attempt) return attempt.exited ? 'exited' : 'running';
    const pgid = Number(handle.id);
    return Number.isInteger(pgid) && pgid > 1 && (await groupAlive(pgid)) ? 'running' : 'gone';
  }

  cancel(handle: ExecutorHandle): Promise<void> {
    const attempt = this.attempts.get(handle.id);
    const pgid = Number(handle.id);
    if (!Number.isInteger(pgid) || pgid <= 1) return Promise.resolve();
    if (!attempt) {
      let alive = true;
      const poll = async () => {
        while (alive) {
          alive = await groupAlive(pgid);
          if (alive) await sleep(50);
        }
      };
      return leaderIsRunner(pgid).then((runner) => this.terminateGroup(pgid, !runner, () => !alive, poll()));
    }
    if (attempt.exited) return Promise.resolve();
    attempt.cancelling ??= this.terminateGroup(pgid, attempt.mode === 'direct', () => attempt.exited, attempt.result, () => {
      attempt.terminated = true;
    });
    return attempt.cancelling;
  }

  /**
   * Kills every process group this executor started, at once (SIGKILL, no grace), and every one it
   * starts from now on: for a process that must stop right now (a second Ctrl-C). Synchronous.
   */
  killAll(): void {
    this.killedAll = true;
    for (const attempt of this.attempts.values()) {
      if (attempt.exited) continue;
      attempt.terminated = true;
      try {
        signalGroup(attempt.pgid, 'SIGKILL');
      } catch {
        /* gone or not ours */
      }
    }
  }

  /** Stops the spawn helper (it also stops by itself when this process exits). Running stages are not touched. */
  async close(): Promise<void> {
    const helper = await this.helper?.catch(() => null);
    this.helper = undefined;
    helper?.close();
  }

  /**
   * SIGTERM — to the runner (it forwards it once to the whole group), or to the whole group when the
   * leader is the command's own shell — then SIGKILL to the whole group after the grace period;
   * resolves when `done()`.
   */
  private async terminateGroup(pgid: number, wholeGroup: boolean, done: () => boolean, exitedPromise?: Promise<unknown>, onTerm?: () => void): Promise<void> {
    const exited = exitedPromise ?? new Promise<never>(() => undefined);
    let delivered = false;
    try {
      if (wholeGroup) delivered = signalGroup(pgid, 'SIGTERM');
      else {
        process.kill(pgid, 'SIGTERM');
        delivered = true;
      }
    } catch {
      // The leader is gone; whatever is left of its group gets the TERM directly.
    }
    if (!delivered) {
      try {
        if (!signalGroup(pgid, 'SIGTERM')) return;
      } catch {
        return;
      }
    }
    onTerm?.();
    const deadline = Date.now() + this.graceMs;
    while (!done() && Date.now() < deadline) {
      await Promise.race([sleep(Math.min(50, Math.max(1, deadline - Date.now()))), exited]);
    }
    if (!done()) {
      try {
        signalGroup(pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
      const hardDeadline = Date.now() + 5000;
      while (!done() && Date.now() < hardDeadline) await Promise.race([sleep(20), exited]);
    }
  }

  async destroy(handle: ExecutorHandle): Promise<void> {
    const attempt = this.attempts.get(handle.id);
    if (!attempt) return;
    if (!attempt.exited) {
      try {
        signalGroup(attempt.pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await Promise.race([attempt.result, sleep(5000)]);
    }
    await this.removeMounts(attempt.mounts);
    attempt.mounts = [];
    this.attempts.delete(handle.id);
  }

  private async materializeMounts(workspace: string, job: StageJob, notices: string[]): Promise<MaterializedMount[]> {
    const done: MaterializedMount[] = [];
    try {
      for (const mount of job.mounts) {
        if (path.isAbsolute(mount.containerPath)) {
          throw new ExecutorError(
            `mount ${mount.containerPath} of stage ${job.stageId}: on the local executor a mount path must be relative to the workspace`,
            'spawn_failed',
          );
        }
        const target = path.resolve(workspace, mount.containerPath);
        if (target === workspace || !target.startsWith(workspace + path.sep)) {
          throw new ExecutorError(`mount ${mount.containerPath} of stage ${job.stageId} points outside the workspace`, 'spawn_failed');
        }
        const existing = await lstat(target).catch(() => null);
        if (existing?.isSymbolicLink()) {
          await unlink(target);
        } else if (existing) {
          // The workspace's own directory wins (e.g. node_modules in an in-place run): never delete it.
          notices.push(`buildit: ${mount.containerPath} already exists in the workspace; it is used as is and the mount from ${mount.hostPath} is not applied`);
          continue;
        }
        await mkdir(path.dirname(target), { recursive: true });
        await mkdir(mount.hostPath, { recursive: true }).catch(() => undefined);
        if (mount.readOnly) {
          await cp(mount.hostPath, target, { recursive: true, preserveTimestamps: true });
          done.push({ target, kind: 'copy' });
        } else {
          await symlink(path.resolve(mount.hostPath), target);
          done.push({ target, kind: 'symlink' });
        }
      }
      return done;
    } catch (error) {
      await this.removeMounts(done);
      if (error instanceof ExecutorError) throw error;
      throw new ExecutorError(`could not prepare the mounts of stage ${job.stageId}: ${(error as Error).message}`, 'spawn_failed');
    }
  }

  private async removeMounts(mounts: MaterializedMount[]): Promise<void> {
    for (const mount of mounts) {
      if (mount.kind === 'symlink') {
        // Only remove it if it is still our symlink.
        if (await readlink(mount.target).catch(() => null)) await unlink(mount.target).catch(() => undefined);
      } else {
        await rm(mount.target, { recursive: true, force: true });
      }
    }
  }
}

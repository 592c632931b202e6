// Small facts about this machine and this process: free loopback ports for servers BuildIt starts itself (the
// embedded PostgreSQL, test servers), whether a process is alive (lock and pid files), whether our supervisor is.
import net from 'node:net';

/** A port free on 127.0.0.1 right now (another process may still take it before it is bound: retry then). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

export async function loopbackPortIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Whether `pid` is a live process; EPERM means alive but not ours to signal, which counts. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Calls `stop` once the supervisor that started this process (scripts/start.ts) is gone. It keeps an IPC channel
 * to its children, which the kernel closes when it dies, even from SIGKILL: a closed channel is immediate and
 * cannot be fooled by a reused pid. Never calls `stop` in a process started without that channel (by hand, by
 * systemd).
 */
export function onSupervisorGone(stop: () => void): void {
  if (process.connected === false)
    stop(); // closed before we listened
  else process.once('disconnect', stop);
}

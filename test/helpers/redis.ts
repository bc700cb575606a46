import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Whether Debian's redis-server is installed (the queue tests skip, saying so, when it is not). */
export const haveRedis = spawnSync('redis-server', ['--version']).status === 0;

/** Why the queue tests are skipped, or false when they run. */
export const redisSkip = haveRedis ? false : 'redis-server is not installed (apt-get install redis-server); the queue tests were not run';

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server on a free loopback port (no persistence), answering PING; `stop` kills it. */
export async function startRedis(): Promise<{ url: string; port: number; process: ChildProcess; stop(): void }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `redis://127.0.0.1:${port}`, port, process: child, stop: () => void child.kill('SIGKILL') };
}

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './service-env.ts';

// scripts/services.sh against a private state dir and private ports, so the suite's own
// services are never touched.
const state = mkdtempSync(join(tmpdir(), 'maestro-services-'));

function services(args: string[], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, MAESTRO_STATE_DIR: state, ...extraEnv };
  for (const key of ['REDIS_URL', 'DATABASE_URL', 'NEO4J_URI'] as const) {
    if (!(key in extraEnv)) delete env[key];
  }
  const started = Date.now();
  const result = spawnSync('bash', [join(REPO_ROOT, 'scripts/services.sh'), ...args], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { ...result, seconds: (Date.now() - started) / 1000 };
}

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer(() => {}).listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    });
  });
}

async function freePort(): Promise<number> {
  const { server, port } = await listen();
  await new Promise((r) => server.close(r));
  return port;
}

let squatter: { server: Server; port: number };
beforeAll(async () => {
  squatter = await listen();
});
afterAll(async () => {
  services(['down', 'redis']);
  squatter.server.close();
  rmSync(state, { recursive: true, force: true });
});

describe('scripts/services.sh', () => {
  it('refuses a port someone else holds with one clear line and a non-zero exit', () => {
    const r = services(['up', 'redis'], { MAESTRO_REDIS_PORT: String(squatter.port) });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `redis: port 127.0.0.1:${squatter.port} is already in use by another process (not started by scripts/services.sh); stop it or set MAESTRO_REDIS_PORT`,
    );
  });

  it('names Java when it is missing, before starting anything', () => {
    const r = services(['up', 'neo4j'], { MAESTRO_JAVA: '/nonexistent/java', MAESTRO_NEO4J_BOLT_PORT: '1' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^neo4j: Java 17\+ is required and '\/nonexistent\/java' was not found/);
  });

  it('reports a service that dies during start-up, naming its log, without hanging', () => {
    const r = services(['up', 'redis'], { MAESTRO_REDIS_PORT: '70000' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`redis: process exited during start-up; see ${state}/logs/redis.log`);
    expect(r.seconds).toBeLessThan(30);
  });

  it('starts, reports and stops its own service, and down leaves other processes alone', async () => {
    const port = await freePort();
    const env = { MAESTRO_REDIS_PORT: String(port) };
    const up = services(['up', 'redis'], env);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`redis\\s+running\\s+127\\.0\\.0\\.1:${port} pid \\d+`));
    // idempotent: a second up starts nothing new
    const again = services(['up', 'redis'], env);
    expect(again.status).toBe(0);
    expect(again.stdout.match(/pid (\d+)/)?.[1]).toBe(up.stdout.match(/pid (\d+)/)?.[1]);

    const down = services(['down', 'redis'], env);
    expect(down.stdout).toContain('redis: stopped');
    expect(services(['status', 'redis'], env).stdout).toMatch(/redis\s+stopped/);
    expect(squatter.server.listening).toBe(true);
  });

  it('treats a service given by URL as external and starts nothing for it', () => {
    const r = services(['up', 'redis'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/redis\s+external/);
  });
});

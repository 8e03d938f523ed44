import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecCommand, execCommand, SAFE_PATH } from './exec-command.ts';
import { executeStep } from './step-type.ts';
import { stepFailure } from './test-support.ts';
import { testStepContext } from './testing.ts';

const NODE = process.execPath;
const nodeOnSafePath = SAFE_PATH.split(':').some((dir) => existsSync(join(dir, 'node')));

/** True while `pid` runs; a zombie (exited, not yet reaped by init) counts as gone. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pid: number, withinMs = 3000): Promise<boolean> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return !isAlive(pid);
}

async function pidsFrom(file: string, withinMs = 5000): Promise<number[]> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.includes('\n')) return text.trim().split(' ').map(Number);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no pids in ${file}`);
}

/**
 * A command that starts a grandchild (in its process group, stdio detached so it holds no pipe),
 * writes "<child pid> <grandchild pid>\n" to argv[1], and then runs until killed. Both ignore
 * SIGTERM, so only the SIGKILL after the grace period stops them.
 */
const FAMILY = `
const { spawn } = require('node:child_process');
process.on('SIGTERM', () => {});
const g = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
g.unref();
require('node:fs').writeFileSync(process.argv[1], process.pid + ' ' + g.pid + '\\n');
if (process.argv[2] !== 'exit') setInterval(() => {}, 1000);
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'maestro-exec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('exec.command', () => {
  it('runs argv without a shell and returns exit code and output', async () => {
    const hostile = '$(echo pwned) && `id`; * | cat > /tmp/x';
    const result = await executeStep(
      execCommand,
      { argv: [NODE, '-e', 'console.log(process.argv[1]); console.error("warn")', hostile] },
      testStepContext(),
    );
    expect(result).toEqual({ output: { exitCode: 0, stdout: `${hostile}\n`, stderr: 'warn\n' } });
  });

  it.skipIf(!nodeOnSafePath)('finds argv[0] on the safe PATH', async () => {
    const result = await executeStep(
      execCommand,
      { argv: ['node', '-e', 'console.log(1)'] },
      testStepContext(),
    );
    expect(result).toMatchObject({ output: { exitCode: 0, stdout: '1\n' } });
  });

  it('gives the command a clean environment: PATH and its env only', async () => {
    process.env.SECRET_FROM_PARENT = 'do-not-leak';
    try {
      const result = await executeStep(
        execCommand,
        { argv: [NODE, '-e', 'process.stdout.write(JSON.stringify(process.env))'], env: { GIVEN: 'yes' } },
        testStepContext(),
      );
      const env = JSON.parse((result as { output: { stdout: string } }).output.stdout) as Record<
        string,
        string
      >;
      expect(env.SECRET_FROM_PARENT).toBeUndefined();
      expect(env).toEqual({ PATH: SAFE_PATH, GIVEN: 'yes' });
    } finally {
      delete process.env.SECRET_FROM_PARENT;
    }
  });

  it('runs in cwd, relative to the configured base directory', async () => {
    const step = createExecCommand({ cwd: tmpdir() });
    const sub = dir.slice(tmpdir().length + 1);
    const result = await executeStep(
      step,
      { argv: [NODE, '-e', 'process.stdout.write(process.cwd())'], cwd: sub },
      testStepContext(),
    );
    expect(result).toMatchObject({ output: { stdout: dir } });
  });

  it('fails a non-zero exit as fatal EXIT_NONZERO with the (truncated) output', async () => {
    const error = await stepFailure(
      executeStep(
        execCommand,
        {
          argv: [
            NODE,
            '-e',
            'console.log("out"); process.stderr.write("e".repeat(5000) + "boom"); process.exit(3)',
          ],
        },
        testStepContext(),
      ),
    );
    expect(error).toMatchObject({
      code: 'EXIT_NONZERO',
      retryable: false,
      details: { exitCode: 3, stdout: 'out\n' },
    });
    expect(error.message).toMatch(/exited with code 3/);
    expect(error.message).toMatch(/boom$/);
    expect(error.message.length).toBeLessThan(1200);
  });

  it('caps stdout and stderr, marking what was dropped', async () => {
    const result = await executeStep(
      execCommand,
      {
        argv: [
          NODE,
          '-e',
          'process.stdout.write("o".repeat(200000)); process.stderr.write("e".repeat(70000))',
        ],
      },
      testStepContext(),
    );
    const { stdout, stderr } = (result as { output: { stdout: string; stderr: string } }).output;
    expect(stdout).toBe(`${'o'.repeat(65536)}\n…[truncated ${200000 - 65536} bytes]`);
    expect(stderr).toBe(`${'e'.repeat(65536)}\n…[truncated ${70000 - 65536} bytes]`);
  });

  it('on timeout kills the whole process group, grandchild included, as retryable TIMEOUT', async () => {
    const pidFile = join(dir, 'timeout.pids');
    const step = createExecCommand({ killGraceMs: 200 });
    const started = performance.now();
    const running = executeStep(
      step,
      { argv: [NODE, '-e', FAMILY, pidFile], timeout: 1500 },
      testStepContext(),
    );
    const [child, grandchild] = await pidsFrom(pidFile);
    expect(isAlive(child ?? 0) && isAlive(grandchild ?? 0)).toBe(true);
    const error = await stepFailure(running);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await gone(child ?? 0)).toBe(true);
    expect(await gone(grandchild ?? 0)).toBe(true);
  });

  it('takes a duration string as timeout and stops at ctx.deadline', async () => {
    expect(execCommand.input.parse({ argv: ['x'], timeout: '2m' }).timeout).toBe(120_000);
    const error = await stepFailure(
      executeStep(
        createExecCommand({ killGraceMs: 100 }),
        { argv: [NODE, '-e', 'setInterval(() => {}, 1000)'], timeout: '1m' },
        testStepContext({ deadline: Date.now() + 300 }),
      ),
    );
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('on cancel kills the process group and fails as CANCELLED', async () => {
    const pidFile = join(dir, 'cancel.pids');
    const controller = new AbortController();
    const step = createExecCommand({ killGraceMs: 200 });
    const running = step.run(step.input.parse({ argv: [NODE, '-e', FAMILY, pidFile] }), {
      ...testStepContext(),
      signal: controller.signal,
    });
    const [child, grandchild] = await pidsFrom(pidFile);
    controller.abort();
    expect(await stepFailure(running)).toMatchObject({ code: 'CANCELLED', retryable: false });
    expect(await gone(child ?? 0)).toBe(true);
    expect(await gone(grandchild ?? 0)).toBe(true);
  });

  it('kills what a command leaves running when it exits', async () => {
    const pidFile = join(dir, 'exit.pids');
    const started = performance.now();
    const result = await executeStep(
      execCommand,
      { argv: [NODE, '-e', FAMILY, pidFile, 'exit'] },
      testStepContext(),
    );
    expect(result).toMatchObject({ output: { exitCode: 0 } });
    const [, grandchild] = await pidsFrom(pidFile);
    expect(await gone(grandchild ?? 0)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('does not hang on a leftover process that holds stdout', async () => {
    const result = await executeStep(
      execCommand,
      {
        argv: [
          NODE,
          '-e',
          `require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' }).unref(); console.log('parent done')`,
        ],
      },
      testStepContext(),
    );
    expect(result).toMatchObject({ output: { exitCode: 0, stdout: 'parent done\n' } });
  });

  it('classes death by a foreign signal as retryable KILLED', async () => {
    const error = await stepFailure(
      executeStep(
        execCommand,
        { argv: [NODE, '-e', 'process.kill(process.pid, "SIGKILL")'] },
        testStepContext(),
      ),
    );
    expect(error).toMatchObject({
      code: 'KILLED',
      retryable: true,
      details: { signal: 'SIGKILL', exitCode: 137 },
    });
  });

  it('fails a program that cannot start as fatal SPAWN', async () => {
    for (const input of [
      { argv: ['definitely-not-a-program-maestro'] },
      { argv: [NODE, '-e', '0'], cwd: join(dir, 'missing') },
    ]) {
      const error = await stepFailure(executeStep(execCommand, input, testStepContext()));
      expect(error).toMatchObject({ code: 'SPAWN', retryable: false });
    }
  });

  it('rejects bad input as fatal VALIDATION', async () => {
    for (const input of [
      { argv: [] },
      { argv: [''] },
      { argv: 'node -e 1' },
      { argv: ['node', 'a\0b'] },
      { argv: ['node'], env: { 'A-B': 'x' } },
      { argv: ['node'], timeout: '5x' },
      { argv: ['node'], timeout: 0 },
    ]) {
      const error = await stepFailure(executeStep(execCommand, input, testStepContext()));
      expect(error, JSON.stringify(input)).toMatchObject({ code: 'VALIDATION', retryable: false });
    }
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { basename, resolve as resolvePath } from 'node:path';
import { MAX_DURATION_MS } from '@maestro/domain';
import { z } from 'zod';
import { durationMs, osString } from './schemas.ts';
import { abortError, fatal, retryable, StepError } from './step-error.ts';
import { defineStep, remainingMs, type StepResult } from './step-type.ts';

/** The only PATH a command sees unless its `env` sets one; nothing else is inherited. */
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExecCommandOptions {
  /** PATH given to commands (and used to find argv[0]). Default SAFE_PATH. */
  path?: string;
  /** Working directory when the input has no `cwd`, and base of a relative one. Default os.tmpdir(). */
  cwd?: string;
  /** Bytes kept of stdout and of stderr each; the rest is dropped with a marker. Default 64 KiB. */
  maxOutputBytes?: number;
  /** Timeout when the input sets none (always capped by ctx.deadline). Default 10 min. */
  defaultTimeoutMs?: number;
  /** Between SIGTERM and SIGKILL to the process group on timeout or cancel. Default 2 s. */
  killGraceMs?: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const input = z.object({
  /** argv[0] is looked up on PATH; no shell is involved, so nothing is expanded or interpreted. */
  argv: z
    .array(osString(64 * 1024))
    .min(1)
    .max(1024)
    .refine((argv) => argv[0] !== '', 'argv[0] must name a program'),
  cwd: osString(4096).optional(),
  env: z
    .record(z.string().max(256).regex(ENV_NAME, 'invalid variable name'), osString(32 * 1024))
    .default({}),
  /** Milliseconds or a duration such as `30s`, `2m`. */
  timeout: z.union([z.number().int().positive().max(MAX_DURATION_MS), durationMs]).optional(),
});

export interface ExecCommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Process groups started and not yet reaped. Should the worker exit while commands run (a crash
 * the engine did not see coming), they are killed with it rather than left orphaned.
 */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pgid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const group of liveGroups) {
        try {
          process.kill(-group, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    });
  }
  liveGroups.add(pgid);
}

/** Keeps the first `limit` bytes of a stream and counts the rest (still read, so the pipe never fills). */
class Capture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private dropped = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.kept;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, Math.max(0, room));
    if (part.length > 0) this.chunks.push(part);
    this.kept += part.length;
    this.dropped += chunk.length - part.length;
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `${text}\n…[truncated ${this.dropped} bytes]` : text;
  }
}

/** The end of a text, for error messages (the last lines usually say what went wrong). */
function tail(text: string, max = 1000): string {
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/**
 * `exec.command`: runs `argv` without a shell, in a clean environment (PATH plus the input's
 * `env`, nothing from the worker), as the leader of its own process group. On timeout or
 * cancel the whole group gets SIGTERM, then SIGKILL after `killGraceMs`; when the command exits
 * on its own, whatever it left running in its group is killed too. Exit 0 gives
 * `{ exitCode, stdout, stderr }`; a non-zero exit is fatal EXIT_NONZERO, a timeout retryable
 * TIMEOUT, death by a signal the step did not send retryable KILLED, a program that cannot be
 * started fatal SPAWN. Errors carry the (truncated) output in `details`.
 */
export function createExecCommand(options: ExecCommandOptions = {}) {
  const path = options.path ?? SAFE_PATH;
  const baseCwd = options.cwd ?? tmpdir();
  const maxOutput = options.maxOutputBytes ?? 64 * 1024;
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 10 * 60_000;
  const killGraceMs = options.killGraceMs ?? 2000;

  return defineStep({
    uses: 'exec.command',
    input,
    run: async (cmd, ctx) => {
      const timeoutMs = remainingMs(ctx, cmd.timeout ?? defaultTimeoutMs);
      const cwd = resolvePath(baseCwd, cmd.cwd ?? '.');
      const cwdStat = await stat(cwd).catch(() => undefined);
      if (!cwdStat?.isDirectory()) throw fatal('SPAWN', `cwd ${cwd} is not a directory`);
      const program = basename(cmd.argv[0] ?? '');
      const env: Record<string, string> = { PATH: path, ...cmd.env };

      return new Promise<StepResult<ExecCommandOutput>>((resolve, reject) => {
        if (ctx.signal.aborted) {
          reject(abortError(ctx.signal));
          return;
        }
        const stdout = new Capture(maxOutput);
        const stderr = new Capture(maxOutput);
        let child: ChildProcess;
        try {
          child = spawn(cmd.argv[0] ?? '', cmd.argv.slice(1), {
            shell: false,
            detached: true,
            cwd,
            env,
            stdio: ['ignore', 'pipe', 'pipe'],
            windowsHide: true,
          });
        } catch (error) {
          reject(fatal('SPAWN', `cannot start ${program}: ${(error as Error).message}`, { cause: error }));
          return;
        }

        if (child.pid !== undefined) trackGroup(child.pid);
        let settled = false;
        let stopReason: StepError | undefined;
        let killTimer: NodeJS.Timeout | undefined;
        const killGroup = (signal: NodeJS.Signals) => {
          if (child.pid === undefined) return;
          try {
            process.kill(-child.pid, signal);
          } catch {
            // ESRCH: the group is gone already.
          }
        };
        const stop = (reason: StepError) => {
          if (stopReason || settled) return;
          stopReason = reason;
          killGroup('SIGTERM');
          killTimer = setTimeout(() => killGroup('SIGKILL'), killGraceMs);
        };
        const onAbort = () => stop(abortError(ctx.signal));
        const timer = setTimeout(
          () => stop(retryable('TIMEOUT', `${program} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
        ctx.signal.addEventListener('abort', onAbort, { once: true });

        const settle = (outcome: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          clearTimeout(killTimer);
          ctx.signal.removeEventListener('abort', onAbort);
          if (child.pid !== undefined) liveGroups.delete(child.pid);
          outcome();
        };

        child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
        child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
        child.on('error', (error: NodeJS.ErrnoException) => {
          if (child.pid !== undefined) return; // a failed kill; 'close' still comes
          settle(() =>
            reject(
              fatal('SPAWN', `cannot start ${program}: ${error.code ?? error.message}`, { cause: error }),
            ),
          );
        });
        child.on('exit', () => {
          // Nothing the command started may outlive it; and a survivor holding stdout would
          // keep 'close' from ever firing, so the pipes are closed after a moment regardless.
          killGroup('SIGKILL');
          setTimeout(() => {
            child.stdout?.destroy();
            child.stderr?.destroy();
          }, 1000).unref();
        });
        child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
          settle(() => {
            const exitCode = code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
            const output: ExecCommandOutput = { exitCode, stdout: stdout.text(), stderr: stderr.text() };
            const details = { ...output, ...(signal ? { signal } : {}) };
            if (stopReason) {
              reject(
                new StepError(stopReason.code, stopReason.message, stopReason.retryable, {
                  cause: stopReason,
                  details,
                }),
              );
            } else if (signal) {
              reject(retryable('KILLED', `${program} was killed by ${signal}`, { details }));
            } else if (code !== 0) {
              const said = tail(output.stderr.trim()) || tail(output.stdout.trim());
              reject(
                fatal('EXIT_NONZERO', `${program} exited with code ${code}${said ? `: ${said}` : ''}`, {
                  details,
                }),
              );
            } else {
              resolve({ output });
            }
          });
        });
      });
    },
  });
}

/** `exec.command` with the default PATH, cwd and limits. */
export const execCommand = createExecCommand();

import { digestOf } from '../digest.ts';
import { AppError, isAppError } from '../errors.ts';
import { findExpressions, parseExpression } from '../manifest/expressions.ts';
import { planTasks } from '../manifest/graph.ts';
import { FOREACH_MAX, type Manifest, type ManifestStep } from '../manifest/types.ts';
import { type ExpressionContext, evaluation } from './evaluate.ts';

/** Task states as the engine sees them (the graph's TaskStatus). */
export type EngineTaskStatus =
  | 'PENDING'
  | 'QUEUED'
  | 'RUNNING'
  | 'WAITING'
  | 'SUCCEEDED'
  | 'FAILED'
  | 'SKIPPED'
  | 'CANCELLED';

export const TERMINAL_TASK_STATUSES: readonly EngineTaskStatus[] = [
  'SUCCEEDED',
  'FAILED',
  'SKIPPED',
  'CANCELLED',
];

export interface EngineTask {
  id: string;
  stepId: string;
  status: EngineTaskStatus;
  itemIndex: number | null;
  position: number;
}

/** One change to make, in order, inside the advancing transaction. */
export type TaskChange =
  | { kind: 'queue'; taskId: string; itemIndex: number | null; input: unknown; idempotencyKey: string }
  | { kind: 'skip'; taskId: string; reason: string }
  | { kind: 'cancel'; taskId: string; reason: string }
  | { kind: 'fail'; taskId: string; error: string }
  /** A foreach step fans out: the task becomes item 0, `items` are new sibling tasks. */
  | {
      kind: 'expand';
      taskId: string;
      items: { id: string; itemIndex: number; input: unknown; idempotencyKey: string }[];
    };

export interface AdvanceInput {
  manifest: Manifest;
  /** sha256 of the manifest, part of every task's idempotency key. */
  digest: string;
  tasks: EngineTask[];
  /** Params, run facts and the outputs of finished steps (see `referencedSteps`). */
  context: ExpressionContext;
  newTaskId: () => string;
}

export interface AdvancePlan {
  changes: TaskChange[];
  /** Set when nothing is left to run: the run's final status and why. */
  outcome: { status: 'SUCCEEDED' | 'FAILED'; message: string | null } | null;
}

/**
 * The task idempotency key of the contract: sha256(manifest digest, step id, item index,
 * resolved input). Retries keep it; a different input is a different key.
 */
export function taskIdempotencyKey(
  digest: string,
  stepId: string,
  itemIndex: number | null,
  input: unknown,
): string {
  return digestOf({ digest, stepId, itemIndex, input: input ?? null });
}

/** Step ids whose outputs the manifest's expressions read (`steps.<id>…`), lower-cased. */
export function referencedSteps(manifest: Manifest): Set<string> {
  const found = new Set<string>();
  const scan = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const span of findExpressions(value).spans) {
        const parsed = parseExpression(span.source);
        if (!parsed.ok) continue;
        for (const ref of parsed.refs)
          if (ref.context === 'steps' && ref.key) found.add(ref.key.toLowerCase());
      }
    } else if (Array.isArray(value)) value.forEach(scan);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(scan);
  };
  for (const step of manifest.steps) scan([step.if, step.foreach, step.with]);
  return found;
}

function failedForGood(task: EngineTask, step: ManifestStep | undefined): boolean {
  return task.status === 'FAILED' && step?.continue_on_error !== true;
}

/**
 * Decides what a run does next, as a pure function of its manifest and task states:
 * PENDING tasks whose needs all SUCCEEDED or were SKIPPED (or FAILED with
 * `continue_on_error`) are started — `if` false skips them, `foreach` fans them out, `with`
 * is resolved and keyed; tasks behind a need that failed for good or was cancelled are
 * CANCELLED, transitively. Repeats until nothing changes, so a chain of skips settles in one
 * call. When every task is finished the run's outcome is set: FAILED if any task failed for
 * good (or was cancelled because of one), SUCCEEDED otherwise.
 */
export function planAdvance(input: AdvanceInput): AdvancePlan {
  const steps = new Map(input.manifest.steps.map((s, i) => [s.id, { step: s, index: i }]));
  const tasks = input.tasks.map((t) => ({ ...t }));
  const byStep = new Map<string, typeof tasks>();
  for (const t of tasks) {
    const list = byStep.get(t.stepId) ?? [];
    list.push(t);
    byStep.set(t.stepId, list);
  }
  const changes: TaskChange[] = [];
  const baseEval = evaluation(input.context);
  let changed = true;
  while (changed) {
    changed = false;
    for (const task of tasks.filter((t) => t.status === 'PENDING').sort((a, b) => a.position - b.position)) {
      const entry = steps.get(task.stepId);
      if (!entry) {
        changes.push({
          kind: 'fail',
          taskId: task.id,
          error: `VALIDATION: step "${task.stepId}" is not in the manifest`,
        });
        task.status = 'FAILED';
        changed = true;
        continue;
      }
      const { step, index } = entry;
      const upstream = (step.needs ?? []).flatMap((id) => byStep.get(id) ?? []);
      const blocker = upstream.find(
        (u) => u.status === 'CANCELLED' || failedForGood(u, steps.get(u.stepId)?.step),
      );
      if (blocker) {
        const why = blocker.status === 'CANCELLED' ? 'was cancelled' : 'failed';
        changes.push({ kind: 'cancel', taskId: task.id, reason: `needs "${blocker.stepId}", which ${why}` });
        task.status = 'CANCELLED';
        changed = true;
        continue;
      }
      if (!upstream.every((u) => TERMINAL_TASK_STATUSES.includes(u.status))) continue;
      changed = true;
      const field = ['steps', String(index)];
      try {
        if (step.if !== undefined && !baseEval.condition(step.if, [...field, 'if'])) {
          changes.push({ kind: 'skip', taskId: task.id, reason: 'if condition is false' });
          task.status = 'SKIPPED';
          continue;
        }
        /** One foreach item's input and key. */
        const itemOf = (item: unknown, itemIndex: number) => {
          const resolvedInput = evaluation({ ...input.context, item, index: itemIndex }).resolve(
            step.with ?? {},
            [...field, 'with'],
          );
          return {
            itemIndex,
            input: resolvedInput,
            idempotencyKey: taskIdempotencyKey(input.digest, step.id, itemIndex, resolvedInput),
          };
        };
        if (step.foreach !== undefined && task.itemIndex !== null) {
          // One item of a fanned-out step again (a rerun): resolve just that item.
          const items = baseEval.items(step.foreach, [...field, 'foreach'], FOREACH_MAX);
          if (task.itemIndex >= items.length) {
            throw new AppError('VALIDATION', `foreach no longer yields item ${task.itemIndex}`, {
              field: [...field, 'foreach'],
            });
          }
          changes.push({ kind: 'queue', taskId: task.id, ...itemOf(items[task.itemIndex], task.itemIndex) });
          task.status = 'QUEUED';
          continue;
        }
        if (step.foreach !== undefined) {
          const items = baseEval.items(step.foreach, [...field, 'foreach'], FOREACH_MAX);
          if (items.length === 0) {
            changes.push({ kind: 'skip', taskId: task.id, reason: 'foreach yielded no items' });
            task.status = 'SKIPPED';
            continue;
          }
          const resolved = items.map((item, itemIndex) => ({
            id: itemIndex === 0 ? task.id : input.newTaskId(),
            ...itemOf(item, itemIndex),
          }));
          const [first, ...rest] = resolved;
          if (rest.length > 0) changes.push({ kind: 'expand', taskId: task.id, items: rest });
          if (first) changes.push({ kind: 'queue', taskId: task.id, ...withoutId(first) });
          task.status = 'QUEUED';
          task.itemIndex = 0;
          for (const item of rest) {
            const sibling = {
              id: item.id,
              stepId: step.id,
              status: 'QUEUED' as const,
              itemIndex: item.itemIndex,
              position: task.position,
            };
            tasks.push(sibling);
            byStep.get(step.id)?.push(sibling);
          }
          continue;
        }
        const resolvedInput = baseEval.resolve(step.with ?? {}, [...field, 'with']);
        changes.push({
          kind: 'queue',
          taskId: task.id,
          itemIndex: null,
          input: resolvedInput,
          idempotencyKey: taskIdempotencyKey(input.digest, step.id, null, resolvedInput),
        });
        task.status = 'QUEUED';
      } catch (error) {
        if (!isAppError(error)) throw error;
        changes.push({ kind: 'fail', taskId: task.id, error: `VALIDATION: ${error.message}` });
        task.status = 'FAILED';
      }
    }
  }
  return { changes, outcome: outcomeOf(tasks, steps) };
}

function withoutId<T extends { id: string }>(item: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = item;
  return rest;
}

function outcomeOf(tasks: EngineTask[], steps: Map<string, { step: ManifestStep }>): AdvancePlan['outcome'] {
  if (!tasks.every((t) => TERMINAL_TASK_STATUSES.includes(t.status))) return null;
  const failed = tasks.find((t) => failedForGood(t, steps.get(t.stepId)?.step));
  if (failed) return { status: 'FAILED', message: `step "${failed.stepId}" failed` };
  const cancelled = tasks.find((t) => t.status === 'CANCELLED');
  if (cancelled) return { status: 'FAILED', message: `step "${cancelled.stepId}" was cancelled` };
  return { status: 'SUCCEEDED', message: null };
}

/** A task as created with its run: PENDING, unresolved `with` (resolved when it is queued). */
export interface InitialTask {
  id: string;
  stepId: string;
  uses: string;
  needs: string[];
  idempotencyKey: string;
  itemIndex: null;
  position: number;
  input: unknown;
}

/**
 * The tasks a new run starts with: one per step in plan order (a foreach step fans out when it
 * becomes ready). The provisional key is stable for the same manifest, step and params; the
 * engine replaces it with the contract's key once `with` is resolved.
 */
export function initialTasks(
  manifest: Manifest,
  digest: string,
  params: Record<string, unknown>,
  newTaskId: () => string,
): InitialTask[] {
  return planTasks(manifest).map((planned, position) => {
    const input = planned.step.with ?? {};
    return {
      id: newTaskId(),
      stepId: planned.step.id,
      uses: planned.step.uses,
      needs: planned.needs,
      idempotencyKey: digestOf({ digest, stepId: planned.step.id, item: null, input, params }),
      itemIndex: null,
      position,
      input,
    };
  });
}

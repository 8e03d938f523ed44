import { randomUUID } from 'node:crypto';

/**
 * Entity ids carry their kind as a prefix (`run_…`, `task_…`), so `node(id)` knows which label
 * to look up without scanning, and an id pasted into the wrong field is recognisably wrong.
 */
export const ID_PREFIX = {
  Tenant: 'tnt',
  User: 'usr',
  Workflow: 'wf',
  WorkflowVersion: 'wfv',
  Run: 'run',
  Task: 'task',
  Schedule: 'sch',
  Approval: 'apr',
  PolicyDecision: 'pd',
  Receipt: 'rcpt',
  Resource: 'res',
  TimelineEvent: 'evt',
} as const;

export type EntityKind = keyof typeof ID_PREFIX;

export function newId(kind: EntityKind): string {
  return `${ID_PREFIX[kind]}_${randomUUID()}`;
}

const BY_PREFIX = new Map<string, EntityKind>(
  Object.entries(ID_PREFIX).map(([kind, prefix]) => [prefix, kind as EntityKind]),
);
const ID_SHAPE = /^([a-z]+)_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The kind of a well-formed id, or null for anything else (which then reads as not found). */
export function kindOfId(id: string): EntityKind | null {
  const match = ID_SHAPE.exec(id);
  return match?.[1] ? (BY_PREFIX.get(match[1]) ?? null) : null;
}

import { join } from 'node:path';
import { createPolicyEngine, type WasmPolicyEngine } from '@maestro/policy';
import { REPO_ROOT } from './service-env.ts';

/**
 * The compiled bundle of a profile, in process. The deadline is generous: on a loaded 2-core box
 * a GC pause would otherwise turn into random denials (deadline behaviour is tested in
 * packages/policy).
 */
export function loadCompiledPolicy(
  profile: 'internal' | 'hosted-saas' = 'internal',
): Promise<WasmPolicyEngine> {
  return createPolicyEngine({
    bundlePath: join(REPO_ROOT, `policy-bundles/build/${profile}.tar.gz`),
    profile,
    deadlineMs: 2000,
  });
}

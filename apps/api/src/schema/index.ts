// Imports only: each file registers its types and fields on the builder (roots in roots.ts).
import './roots.ts';
import './scalars.ts';
import './common.ts';
import './node.ts';
import './viewer.ts';
import './policy.ts';
import './workflow.ts';
import './run-connection.ts';
import './run.ts';
import './approval.ts';
import './workflow-mutations.ts';
import './plan.ts';
import './schedule.ts';
import './tenancy.ts';

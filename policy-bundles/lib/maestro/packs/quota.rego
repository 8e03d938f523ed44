# METADATA
# title: Concurrent-run quota
# description: >-
#   Per-tenant concurrent-run cap (seed 003 MC-POL-702): start_workflow is denied while the
#   tenant has as many runs in flight as its quota allows (tenant.quota.inUse >=
#   tenant.quota.maxConcurrent), and when the quota is not stated at all.
# custom:
#   examples:
#     - name: room for one more run
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "quota": {"maxConcurrent": 25, "inUse": 24},
#                          "budget": {"dailyMaxUSD": 100, "spentUSD": 12.5, "alertThreshold": 0.8},
#                          "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "dev", "region": "EU"}, "plan": {"estimatedCostUSD": 3.27},
#               "subject": {"workflow": {"name": "nightly-report", "region": "EU", "environment": "dev", "risk": "low"}}}
#       allow: true
#     - name: quota used up
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "quota": {"maxConcurrent": 25, "inUse": 25}}}
#       deny: true
#       reason_code: quota_exceeded
package maestro.packs.quota

import data.maestro.lib.helpers

quota := input.tenant.quota

# The quota must be stated: without it no run may start.
deny contains "quota_exceeded: the tenant's concurrent-run quota is unknown (tenant.quota.maxConcurrent and tenant.quota.inUse), so no run may start" if {
	input.action == "start_workflow"
	not stated
}

deny contains concat("", [
	"quota_exceeded: ", helpers.int_text(quota.inUse), " of ", helpers.int_text(quota.maxConcurrent),
	" concurrent runs are in use; wait for a run to finish or ask an admin to raise the quota",
]) if {
	input.action == "start_workflow"
	stated
	quota.inUse >= quota.maxConcurrent
}

stated if {
	helpers.amount(quota.maxConcurrent)
	helpers.amount(quota.inUse)
}

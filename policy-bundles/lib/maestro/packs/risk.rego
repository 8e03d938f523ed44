# METADATA
# title: Risk-based approvals
# description: >-
#   High-risk workflows and production runs need approval before they start (seed 004
#   Workstream 2). The pack does not deny: it turns an allowed start_workflow into
#   requires_approval with how many approvals and from which roles. internal: a high-risk
#   workflow needs 2 approvals from operator or admin, a prod run of a workflow that is not
#   high-risk needs 1. hosted-saas: high-risk or prod needs 2 (dual control), and a workflow
#   whose risk is missing or unknown counts as high-risk.
# custom:
#   examples:
#     - name: low-risk dev run starts at once
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "quota": {"maxConcurrent": 25, "inUse": 3},
#                          "budget": {"dailyMaxUSD": 100, "spentUSD": 12.5, "alertThreshold": 0.8},
#                          "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "dev", "region": "EU"}, "plan": {"estimatedCostUSD": 3.27},
#               "subject": {"workflow": {"name": "nightly-report", "region": "EU", "environment": "dev", "risk": "low"}}}
#       allow: true
#       requires_approval: false
#     - name: high-risk prod run needs two approvals
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "quota": {"maxConcurrent": 25, "inUse": 3},
#                          "budget": {"dailyMaxUSD": 100, "spentUSD": 12.5, "alertThreshold": 0.8},
#                          "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "prod", "region": "EU"}, "plan": {"estimatedCostUSD": 3.27},
#               "subject": {"workflow": {"name": "intelgraph-build", "region": "EU", "environment": "prod", "risk": "high"}}}
#       allow: true
#       requires_approval: true
#       approval_count: 2
package maestro.packs.risk

workflow := input.subject.workflow

# What needs approval, and how much, by profile (data.maestro.config.risk):
#   high: {count, roles} for high-risk workflows; prod: {count, roles} for prod runs.
rules := data.maestro.config.risk

# A high-risk workflow: declared so, or (in profiles that say so) of unknown risk.
high_risk if workflow.risk == "high"

high_risk if {
	rules.unknown_risk_is_high == true
	not known_risk
}

known_risk if workflow.risk in {"low", "medium", "high"}

# A production run: the request or the workflow is in prod.
production if input.request.environment == "prod"

production if workflow.environment == "prod"

# Each reason to require approval contributes its rule; the strictest one wins.
requirements contains rules.high if {
	input.action == "start_workflow"
	high_risk
}

requirements contains rules.prod if {
	input.action == "start_workflow"
	production
}

# {count, roles}: the largest count required, with the roles of the rules that require it.
default requirement := {"count": 0, "roles": []}

requirement := {"count": most, "roles": sort({role | some r in requirements; r.count == most; some role in r.roles})} if {
	count(requirements) > 0
	most := max([r.count | some r in requirements])
}

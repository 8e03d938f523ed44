# METADATA
# title: Residency
# description: >-
#   Enforces data residency alignment between workflow and request (seed 002 §3): the
#   workflow's region must equal the request region, and a workflow is only started when its
#   region is known. Region pinning: when the tenant lists allowed regions, the request must
#   come from one of them. The hosted-saas profile requires every tenant to pin its regions.
#   Applies to the workflow actions (everything but manage_members and create_tenant).
# custom:
#   examples:
#     - name: same region
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "quota": {"maxConcurrent": 25, "inUse": 3},
#                          "budget": {"dailyMaxUSD": 100, "spentUSD": 12.5, "alertThreshold": 0.8},
#                          "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "dev", "region": "EU"}, "plan": {"estimatedCostUSD": 3.27},
#               "subject": {"workflow": {"name": "nightly-report", "region": "EU", "environment": "dev", "risk": "low"}}}
#       allow: true
#     - name: workflow in another region than the request
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "request": {"environment": "dev", "region": "US"},
#               "subject": {"workflow": {"name": "nightly-report", "region": "EU", "environment": "dev"}}}
#       deny: true
#       reason_code: residency_mismatch
#     - name: request from a region the tenant does not allow
#       input: {"action": "cancel_run", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "dev", "region": "US"}}
#       deny: true
#       reason_code: residency_mismatch
package maestro.packs.residency

import data.maestro.lib.helpers

workflow := input.subject.workflow

# A: the workflow's region must equal the request region.
deny contains concat("", [
	"residency_mismatch: workflow ", workflow_name, " is pinned to region ", workflow.region,
	" but the request comes from ", request_region_text, "; send it from ", workflow.region,
]) if {
	helpers.workflow_action
	workflow_region_known
	not same_region
}

# A workflow whose region is unknown is never started: its residency cannot be checked.
deny contains concat("", [
	"residency_mismatch: the region of workflow ", workflow_name, " is unknown, so it cannot be started",
]) if {
	input.action == "start_workflow"
	not workflow_region_known
}

# B: region pinning. The request must come from one of the tenant's allowed regions.
deny contains concat("", [
	"residency_mismatch: the tenant's data is pinned to ", helpers.join(allowed_regions),
	"; requests from ", request_region_text, " are not allowed",
]) if {
	helpers.workflow_action
	count(allowed_regions) > 0
	not request_region_allowed
}

# Profiles that require pinning (hosted-saas) deny tenants without allowed regions.
deny contains "residency_mismatch: the tenant has no allowed regions (tenant.residency.allowedRegions); this profile requires every tenant to pin its data to a region" if {
	data.maestro.config.residency.require_allowed_regions == true
	helpers.workflow_action
	count(allowed_regions) == 0
}

# Helper rules: `not` applies to these, never to a function of a missing input field.
workflow_region_known if helpers.present(workflow.region)

same_region if input.request.region == workflow.region

request_region_allowed if input.request.region in allowed_regions

default allowed_regions := []

allowed_regions := helpers.strings(input.tenant.residency.allowedRegions)

workflow_name := workflow.name if helpers.present(workflow.name)

else := "(unnamed)"

request_region_text := concat("", ["region ", input.request.region]) if helpers.present(input.request.region)

else := "no region"

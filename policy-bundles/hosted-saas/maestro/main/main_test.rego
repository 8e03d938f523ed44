# maestro/main/decision of the hosted-saas profile, end to end with this profile's data.json.
package maestro.main_test

import data.maestro.lib.roles
import data.maestro.main

# A start_workflow request every pack allows: low-risk dev workflow, room in quota and budget,
# tenant bound and pinned to EU.
start := {
	"action": "start_workflow",
	"actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
	"tenant": {
		"id": "tnt_1",
		"quota": {"maxConcurrent": 25, "inUse": 3},
		"budget": {"dailyMaxUSD": 100, "spentUSD": 12.5, "alertThreshold": 0.8},
		"residency": {"allowedRegions": ["EU"]},
	},
	"request": {"environment": "dev", "region": "EU", "resourceClass": "medium"},
	"plan": {"estimatedCostUSD": 3.27},
	"subject": {
		"id": "wf_1", "kind": "workflow",
		"workflow": {"name": "nightly-report", "version": "1.0.0", "region": "EU", "environment": "dev", "risk": "low"},
		"params": {"day": "2025-10-13"},
	},
}

decide(patch) := d if d := main.decision with input as object.union(start, patch)

without(paths) := d if d := main.decision with input as json.remove(start, paths)

codes(d) := {code | some r in d.reasons; code := split(r, ": ")[0]}

# A read that satisfies the hosted scoping rules.
read := {
	"action": "read", "actor": {"sub": "vic", "roles": ["viewer"], "tenant": "tnt_1"},
	"tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
	"request": {"environment": "prod", "region": "EU"},
}

# ---- default deny ----

test_every_action_is_denied_without_a_matching_rule if {
	every action in roles.known_actions {
		d := main.decision with input as {"action": action, "actor": {"sub": "x", "roles": []}}
		not d.allow
		"rbac_denied" in codes(d)
	}
}

test_unknown_action_has_no_rule if {
	d := main.decision with input as {"action": "drop_tables", "actor": {"roles": ["admin"]}}
	codes(d) == {"no_rule"}
}

test_decision_is_always_a_full_document if {
	every odd in [{}, {"action": "start_workflow"}, {"action": ["read"]}, {"actor": "ada"}, {"subject": 3}] {
		d := main.decision with input as odd
		d.allow == false
		d.requires_approval == false
		d.approval == {"count": 0, "roles": []}
		count(d.reasons) > 0
		d.warnings == []
	}
}

test_a_clean_start_is_allowed if {
	main.decision == {
		"allow": true, "requires_approval": false, "approval": {"count": 0, "roles": []},
		"reasons": [], "warnings": [],
	} with input as start
}

# ---- RBAC/ABAC: the tenant binding is required ----

test_read_with_scoping_is_allowed if main.decision.allow with input as read

test_read_without_the_tenant_binding if {
	d := main.decision with input as json.remove(read, ["actor/tenant"])
	d.reasons == ["rbac_denied: the request does not bind you to a tenant (actor.tenant and tenant.id are required)"]
}

test_manage_members_is_not_regional if {
	d := main.decision with input as {"action": "manage_members", "actor": {"sub": "ada", "roles": ["admin"], "tenant": "tnt_1"}, "tenant": {"id": "tnt_1"}}
	d.allow
}

test_platform_admin_creates_tenants_without_a_tenant if {
	main.decision.allow with input as {"action": "create_tenant", "actor": {"sub": "root", "roles": ["platform_admin"]}}
}

# ---- residency: pinning is required ----

test_hosted_requires_allowed_regions if {
	d := without(["tenant/residency"])
	d.reasons == ["residency_mismatch: the tenant has no allowed regions (tenant.residency.allowedRegions); this profile requires every tenant to pin its data to a region"]
}

test_hosted_region_mismatch if {
	d := decide({"request": {"region": "US"}})
	codes(d) == {"residency_mismatch"}
	count(d.reasons) == 2
}

# ---- environment isolation ----

test_prod_request_may_not_touch_a_staging_workflow if {
	d := decide({"request": {"environment": "prod"}})
	d.reasons == ["environment_isolation: workflow nightly-report belongs to the dev environment; a prod request may not touch it"]
}

test_request_must_name_its_environment if {
	d := without(["request/environment"])
	d.reasons == ["environment_isolation: the request names no environment (request.environment); every request must be scoped to one"]
	e := main.decision with input as json.remove(read, ["request/environment"])
	codes(e) == {"environment_isolation"}
}

test_unknown_workflow_environment_is_not_started if {
	d := without(["subject/workflow/environment"])
	d.reasons == ["environment_isolation: the environment of workflow nightly-report is unknown, so it cannot be started"]
	e := main.decision with input as json.remove(start, ["subject/workflow"])
	"environment_isolation: the environment of workflow (unnamed) is unknown, so it cannot be started" in e.reasons
}

# ---- quota ----

test_quota_full if codes(decide({"tenant": {"quota": {"inUse": 25}}})) == {"quota_exceeded"}

test_quota_unknown if codes(without(["tenant/quota/inUse"])) == {"quota_exceeded"}

# ---- budget: 90% of the daily budget, $25 per run ----

test_budget_stops_at_ninety_percent if {
	d := decide({"tenant": {"budget": {"spentUSD": 88}}})
	d.reasons == ["budget_exceeded: estimate $3.27 exceeds remaining $2.00 of the $100.00 daily budget (this profile stops runs at 90% of it)"]
	e := decide({"tenant": {"budget": {"spentUSD": 86.73}}})
	e.allow
	e.warnings == ["budget_warning: this run brings today's spend to $90.00 of the $100.00 daily budget (90%), at or past the 80% alert threshold"]
}

test_budget_per_run_cap if {
	d := decide({"tenant": {"budget": {"dailyMaxUSD": 1000}}, "plan": {"estimatedCostUSD": 25.01}})
	d.reasons == ["budget_exceeded: estimate $25.01 exceeds the $25.00 per-run cap of this profile"]
	decide({"tenant": {"budget": {"dailyMaxUSD": 1000}}, "plan": {"estimatedCostUSD": 25}}).allow
}

test_budget_missing_estimate if codes(without(["plan/estimatedCostUSD"])) == {"budget_exceeded"}

# ---- risk: dual control for high risk or prod; unknown risk is high ----

test_prod_needs_two_approvals if {
	d := decide({"request": {"environment": "prod"}, "subject": {"workflow": {"environment": "prod"}}})
	d.allow
	d.approval == {"count": 2, "roles": ["admin", "operator"]}
}

test_high_risk_needs_two_approvals if decide({"subject": {"workflow": {"risk": "high"}}}).approval.count == 2

test_unknown_risk_counts_as_high if {
	d := without(["subject/workflow/risk"])
	d.allow
	d.requires_approval
	d.approval.count == 2
	decide({"subject": {"workflow": {"risk": "extreme"}}}).approval.count == 2
}

test_low_and_medium_risk_dev_runs_start_at_once if {
	not decide({"subject": {"workflow": {"risk": "medium"}}}).requires_approval
}

# ---- approvals ----

approve := {
	"action": "approve",
	"actor": {"sub": "grace", "roles": ["admin"], "tenant": "tnt_1"},
	"tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
	"request": {"environment": "prod", "region": "EU"},
	"subject": {
		"kind": "approval", "verdict": "APPROVE",
		"workflow": {"name": "intelgraph-build", "region": "EU", "environment": "prod", "risk": "high"},
		"approval": {"requestedBy": "ada", "eligibleRoles": ["operator", "admin"], "approvers": [], "status": "PENDING"},
	},
}

test_second_person_approves if main.decision.allow with input as approve

test_requester_may_not_approve if {
	d := main.decision with input as object.union(approve, {"actor": {"sub": "ada"}})
	codes(d) == {"approval_denied"}
}

test_approval_across_environments_is_isolated if {
	d := main.decision with input as object.union(approve, {"request": {"environment": "staging"}})
	codes(d) == {"environment_isolation"}
}

# ---- egress: https to a short list ----

egress(url) := d if d := main.decision with input as {
	"action": "step_egress", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
	"tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
	"request": {"environment": "prod", "region": "EU"},
	"subject": {"kind": "step", "step": {"uses": "http.request", "url": url}},
}

test_hosted_egress if {
	egress("https://api.github.com/repos").allow
	egress("https://hooks.slack.com/services/x").allow
	egress("http://api.github.com/").reasons == ["egress_denied: scheme http is not allowed (allowed: https)"]
	egress("https://localhost/").reasons == ["egress_denied: host localhost is not on the egress allow-list of this profile"]
	not egress("https://127.0.0.1/").allow
}

# ---- models ----

test_hosted_models if {
	d := main.decision with input as {
		"action": "step_model", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
		"tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
		"request": {"environment": "prod", "region": "EU"},
		"subject": {"kind": "step", "step": {"uses": "llm.generate", "model": "gpt-4o-mini"}},
	}
	codes(d) == {"model_denied"}
}

# ---- data classes ----

test_hosted_data_classes if {
	d := decide({"subject": {"params": {"auth": "Bearer abcdefghijklmnopqrstuvwxyz"}}})
	d.reasons == ["data_class_denied: params.auth holds an unredacted bearer token; redact it (for example \"[REDACTED]\") before starting the run"]
	decide({"subject": {"params": {"auth": "Bearer [REDACTED]"}}}).allow
}

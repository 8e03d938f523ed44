# Pack behaviour that depends on profile settings, tested with explicit settings so that it
# holds whichever profile's data.json is loaded.
package maestro.packs_test

import data.maestro.packs.approvals
import data.maestro.packs.budget
import data.maestro.packs.data_classes
import data.maestro.packs.egress
import data.maestro.packs.models
import data.maestro.packs.residency
import data.maestro.packs.risk

spend(spent, estimate) := {
	"action": "start_workflow",
	"tenant": {"budget": {"dailyMaxUSD": 100, "spentUSD": spent}},
	"plan": {"estimatedCostUSD": estimate},
}

test_budget_defaults_without_settings if {
	# No settings: stop at 100%, warn at 80%.
	budget.deny == set() with input as spend(96.73, 3.27) with data.maestro.config as {}
	count(budget.deny) == 1 with input as spend(96.74, 3.27) with data.maestro.config as {}
	budget.warn == {"budget_warning: this run brings today's spend to $80.00 of the $100.00 daily budget (80%), at or past the 80% alert threshold"} with input as spend(76.73, 3.27)
		with data.maestro.config as {}
}

test_budget_ignores_a_stop_outside_the_budget if {
	count(budget.deny) == 1 with input as spend(96.74, 3.27) with data.maestro.config as {"budget": {"hard_limit_ratio": 1.5}}
	count(budget.deny) == 1 with input as spend(96.74, 3.27) with data.maestro.config as {"budget": {"hard_limit_ratio": "all"}}
}

test_budget_zero_daily_budget_is_no_budget if {
	budget.deny == {"budget_exceeded: the tenant's daily budget is unknown (tenant.budget.dailyMaxUSD and tenant.budget.spentUSD), so no run may start"} with input as {
		"action": "start_workflow", "tenant": {"budget": {"dailyMaxUSD": 0.001, "spentUSD": 0}},
		"plan": {"estimatedCostUSD": 0},
	}
}

test_no_allow_lists_allow_nothing if {
	egress.deny == {
		"egress_denied: host api.github.com is not on the egress allow-list of this profile",
		"egress_denied: scheme https is not allowed (allowed: none)",
	} with input as {"action": "step_egress", "subject": {"step": {"url": "https://api.github.com/"}}}
		with data.maestro.config as {}
	models.deny == {"model_denied: model gpt-4.1-mini is not on the allow-list (none)"} with input as {"action": "step_model", "subject": {"step": {"model": "gpt-4.1-mini"}}}
		with data.maestro.config as {}
}

test_egress_unparsable_url if {
	egress.deny == {"egress_denied: the step's URL does not parse as scheme://host[:port]/path, so its destination cannot be checked"} with input as {"action": "step_egress", "subject": {"step": {"url": "not a url"}}}
}

test_residency_required_pinning if {
	residency.deny == set() with input as {"action": "read"} with data.maestro.config as {}
	residency.deny == {"residency_mismatch: the tenant has no allowed regions (tenant.residency.allowedRegions); this profile requires every tenant to pin its data to a region"} with input as {"action": "read"}
		with data.maestro.config as {"residency": {"require_allowed_regions": true}}
}

test_residency_messages_without_names if {
	residency.deny == {"residency_mismatch: workflow (unnamed) is pinned to region EU but the request comes from no region; send it from EU"} with input as {"action": "read", "subject": {"workflow": {"region": "EU"}}}
		with data.maestro.config as {}
}

rules := {"risk": {
	"unknown_risk_is_high": true,
	"high": {"count": 2, "roles": ["admin"]},
	"prod": {"count": 1, "roles": ["operator"]},
}}

test_risk_strictest_requirement_wins if {
	risk.requirement == {"count": 2, "roles": ["admin"]} with input as {"action": "start_workflow", "request": {"environment": "prod"}, "subject": {"workflow": {"risk": "high"}}}
		with data.maestro.config as rules
	risk.requirement == {"count": 1, "roles": ["operator"]} with input as {"action": "start_workflow", "request": {"environment": "prod"}, "subject": {"workflow": {"risk": "low"}}}
		with data.maestro.config as rules
	risk.requirement == {"count": 0, "roles": []} with input as {"action": "cancel_run", "subject": {"workflow": {"risk": "high"}}}
		with data.maestro.config as rules
}

test_risk_equal_counts_merge_roles if {
	same := {"risk": {"high": {"count": 2, "roles": ["admin"]}, "prod": {"count": 2, "roles": ["operator"]}}}
	risk.requirement == {"count": 2, "roles": ["admin", "operator"]} with input as {"action": "start_workflow", "request": {"environment": "prod"}, "subject": {"workflow": {"risk": "high"}}}
		with data.maestro.config as same
}

# ---- approvals and data classes, pack by pack (no profile settings involved) ----

pending := {
	"action": "approve",
	"actor": {"sub": "grace", "roles": ["operator"]},
	"subject": {"verdict": "APPROVE", "approval": {"requestedBy": "ada", "eligibleRoles": ["operator"], "approvers": ["linus"], "status": "PENDING"}},
}

test_approvals_pack if {
	approvals.deny == set() with input as pending
	approvals.deny == {"approval_denied: linus has already decided this approval"} with input as object.union(pending, {"actor": {"sub": "linus"}})
	approvals.deny == {"approval_denied: this approval is not a status, not PENDING; only pending approvals can be decided"} with input as object.union(pending, {"subject": {"approval": {"status": 3}}})
	approvals.deny == {
		"approval_denied: the request names no approval to decide (subject.approval)",
		"approval_denied: the verdict must be APPROVE or REJECT",
	} with input as {"action": "approve", "actor": {"sub": "grace"}}
	approvals.deny == {"approval_denied: deciding this approval needs one of the roles (none listed); you hold none"} with input as json.remove(pending, ["subject/approval/eligibleRoles", "actor/roles"])
}

test_data_classes_pack if {
	data_classes.deny == set() with input as {"action": "start_workflow", "subject": {"params": {"a": "[REDACTED]", "n": 3}}}
	data_classes.deny == {"data_class_denied: params.x[1] holds an unredacted US social security number; redact it (for example \"[REDACTED]\") before starting the run"} with input as {"action": "start_workflow", "subject": {"params": {"x": ["ok", "078-05-1120"]}}}
	data_classes.deny == set() with input as {"action": "approve", "subject": {"params": {"x": "ada@example.com"}}}
	data_classes.where(["a", 0, "b"]) == "params.a[0].b"
	data_classes.where([true]) == "params.?"
}

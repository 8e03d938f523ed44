# maestro/main/decision of the internal profile, end to end with this profile's data.json.
package maestro.main_test

import data.maestro.lib.roles
import data.maestro.main

# A start_workflow request every pack allows: low-risk dev workflow, room in quota and budget.
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
		"params": {"day": "2025-10-13", "targets": ["api", "web"]},
	},
}

decide(patch) := d if d := main.decision with input as object.union(start, patch)

codes(d) := {code | some r in d.reasons; code := split(r, ": ")[0]}

# ---- default deny ----

test_every_action_is_denied_without_a_matching_rule if {
	every action in roles.known_actions {
		d := main.decision with input as {"action": action, "actor": {"sub": "x", "roles": []}}
		not d.allow
		count(d.reasons) > 0
	}
}

test_unknown_and_missing_actions_have_no_rule if {
	d := main.decision with input as {"action": "drop_tables", "actor": {"roles": ["admin"]}}
	not d.allow
	codes(d) == {"no_rule"}
	e := main.decision with input as {}
	codes(e) == {"no_rule"}
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

test_every_reason_has_a_code if {
	d := main.decision with input as {"action": "start_workflow", "actor": {"roles": ["viewer"]}, "subject": {"params": {"e": "a@b.io"}}}
	every r in d.reasons {
		regex.match(`^(rbac_denied|residency_mismatch|quota_exceeded|budget_exceeded|approval_denied|egress_denied|model_denied|data_class_denied|environment_isolation|no_rule): `, r)
	}
}

# ---- the full start ----

test_a_clean_start_is_allowed if {
	main.decision == {
		"allow": true, "requires_approval": false, "approval": {"count": 0, "roles": []},
		"reasons": [], "warnings": [],
	} with input as start
}

test_read_needs_no_tenant_details if {
	d := main.decision with input as {"action": "read", "actor": {"sub": "vic", "roles": ["viewer"]}}
	d.allow
}

test_platform_admin_creates_tenants if {
	d := main.decision with input as {"action": "create_tenant", "actor": {"sub": "root", "roles": ["platform_admin"]}}
	d.allow
	e := main.decision with input as {"action": "create_tenant", "actor": {"sub": "ada", "roles": ["admin"]}}
	codes(e) == {"rbac_denied"}
}

test_rbac_denies_a_composer_start if codes(decide({"actor": {"roles": ["composer"]}})) == {"rbac_denied"}

test_rbac_denies_another_tenant if codes(decide({"actor": {"tenant": "tnt_2"}})) == {"rbac_denied"}

# internal checks the binding only when both sides state it.
test_internal_does_not_require_the_tenant_binding if decide({"actor": {"tenant": null}}).allow

test_internal_tolerates_a_missing_tenant_id if {
	d := main.decision with input as json.remove(start, ["tenant/id", "actor/tenant"])
	d.allow
}

# ---- residency ----

test_residency_region_mismatch if {
	d := decide({"request": {"region": "US"}, "tenant": {"residency": {"allowedRegions": ["EU", "US"]}}})
	codes(d) == {"residency_mismatch"}
	d.reasons == ["residency_mismatch: workflow nightly-report is pinned to region EU but the request comes from region US; send it from EU"]
}

test_residency_unknown_workflow_region if {
	d := main.decision with input as json.remove(start, ["subject/workflow/region"])
	codes(d) == {"residency_mismatch"}
}

test_residency_missing_request_region if {
	d := main.decision with input as json.remove(start, ["request/region"])
	not d.allow
	codes(d) == {"residency_mismatch"}
}

test_residency_pinning if {
	d := decide({"request": {"region": "US"}, "subject": {"workflow": {"region": "US"}}})
	d.reasons == ["residency_mismatch: the tenant's data is pinned to EU; requests from region US are not allowed"]
}

test_internal_pinning_only_when_the_tenant_lists_regions if {
	d := main.decision with input as json.remove(start, ["tenant/residency"])
	d.allow
}

test_residency_applies_to_other_workflow_actions if {
	d := main.decision with input as {
		"action": "cancel_run", "actor": {"sub": "ada", "roles": ["operator"]},
		"request": {"region": "US"}, "subject": {"workflow": {"name": "w", "region": "EU"}},
	}
	codes(d) == {"residency_mismatch"}
}

# ---- quota ----

test_quota_full if {
	d := decide({"tenant": {"quota": {"maxConcurrent": 25, "inUse": 25}}})
	d.reasons == ["quota_exceeded: 25 of 25 concurrent runs are in use; wait for a run to finish or ask an admin to raise the quota"]
}

test_quota_unknown if {
	d := main.decision with input as json.remove(start, ["tenant/quota"])
	codes(d) == {"quota_exceeded"}
	e := decide({"tenant": {"quota": {"maxConcurrent": "25", "inUse": 3}}})
	codes(e) == {"quota_exceeded"}
}

test_quota_only_gates_starts if {
	d := main.decision with input as object.union(start, {"action": "cancel_run", "tenant": {"quota": {"maxConcurrent": 1, "inUse": 9}}})
	d.allow
}

# ---- budget ----

test_budget_exceeded if {
	d := decide({"tenant": {"budget": {"spentUSD": 98.8}}})
	d.reasons == ["budget_exceeded: estimate $3.27 exceeds remaining $1.20 of the $100.00 daily budget"]
}

test_budget_exactly_used_up_is_allowed if {
	d := decide({"tenant": {"budget": {"spentUSD": 96.73}}})
	d.allow
	d.warnings == ["budget_warning: this run brings today's spend to $100.00 of the $100.00 daily budget (100%), at or past the 80% alert threshold"]
}

test_budget_warning_at_the_threshold if {
	d := decide({"tenant": {"budget": {"spentUSD": 76.73}}})
	d.allow
	d.warnings == ["budget_warning: this run brings today's spend to $80.00 of the $100.00 daily budget (80%), at or past the 80% alert threshold"]
	e := decide({"tenant": {"budget": {"spentUSD": 76.72}}})
	e.warnings == []
}

test_budget_threshold_from_the_tenant_or_the_default if {
	d := decide({"tenant": {"budget": {"spentUSD": 60, "alertThreshold": 0.5}}})
	d.warnings == ["budget_warning: this run brings today's spend to $63.27 of the $100.00 daily budget (63%), at or past the 50% alert threshold"]
	e := main.decision with input as json.remove(object.union(start, {"tenant": {"budget": {"spentUSD": 80}}}), ["tenant/budget/alertThreshold"])
	e.warnings == ["budget_warning: this run brings today's spend to $83.27 of the $100.00 daily budget (83%), at or past the 80% alert threshold"]
	f := decide({"tenant": {"budget": {"spentUSD": 80, "alertThreshold": 7}}})
	count(f.warnings) == 1
}

test_budget_missing_estimate_or_budget if {
	d := main.decision with input as json.remove(start, ["plan"])
	d.reasons == ["budget_exceeded: the run has no cost estimate (plan.estimatedCostUSD); plan it before starting"]
	e := main.decision with input as json.remove(start, ["tenant/budget"])
	e.reasons == ["budget_exceeded: the tenant's daily budget is unknown (tenant.budget.dailyMaxUSD and tenant.budget.spentUSD), so no run may start"]
	f := decide({"plan": {"estimatedCostUSD": -1}})
	codes(f) == {"budget_exceeded"}
}

test_internal_has_no_per_run_cap if decide({"tenant": {"budget": {"dailyMaxUSD": 1000}}, "plan": {"estimatedCostUSD": 300}}).allow

# ---- risk and approvals required ----

test_prod_run_of_a_low_risk_workflow_needs_one_approval if {
	d := decide({"request": {"environment": "prod"}, "subject": {"workflow": {"environment": "prod"}}})
	d.allow
	d.requires_approval
	d.approval == {"count": 1, "roles": ["admin", "operator"]}
}

test_high_risk_needs_two_approvals if {
	d := decide({"subject": {"workflow": {"risk": "high"}}})
	d.requires_approval
	d.approval == {"count": 2, "roles": ["admin", "operator"]}
	e := decide({"request": {"environment": "prod"}, "subject": {"workflow": {"environment": "prod", "risk": "high"}}})
	e.approval.count == 2
}

test_internal_unknown_risk_is_not_high if {
	d := main.decision with input as json.remove(start, ["subject/workflow/risk"])
	d.allow
	not d.requires_approval
}

test_denied_starts_do_not_ask_for_approval if {
	d := decide({"subject": {"workflow": {"risk": "high"}}, "tenant": {"quota": {"inUse": 30}}})
	not d.allow
	not d.requires_approval
}

# ---- approval decisions ----

approve := {
	"action": "approve",
	"actor": {"sub": "grace", "roles": ["operator"], "tenant": "tnt_1"},
	"tenant": {"id": "tnt_1"},
	"request": {"environment": "prod", "region": "EU"},
	"subject": {
		"kind": "approval", "verdict": "APPROVE",
		"workflow": {"name": "intelgraph-build", "region": "EU", "environment": "prod", "risk": "high"},
		"approval": {"requestedBy": "ada", "eligibleRoles": ["operator", "admin"], "approvers": ["linus"], "status": "PENDING"},
	},
}

decide_approval(patch) := d if d := main.decision with input as object.union(approve, patch)

test_an_eligible_second_person_approves if {
	decide_approval({}).allow
	decide_approval({"subject": {"verdict": "REJECT"}}).allow
}

test_requester_may_not_approve if {
	d := decide_approval({"actor": {"sub": "ada"}})
	d.reasons == ["approval_denied: ada requested this run and may not decide its approval (dual control)"]
}

test_one_decision_per_approver if {
	d := decide_approval({"actor": {"sub": "linus"}})
	d.reasons == ["approval_denied: linus has already decided this approval"]
}

test_approver_needs_an_eligible_role if {
	d := decide_approval({"subject": {"approval": {"eligibleRoles": ["admin"]}}})
	d.reasons == ["approval_denied: deciding this approval needs one of the roles admin; you hold operator"]
	e := decide_approval({"subject": {"approval": {"eligibleRoles": []}}})
	e.reasons == ["approval_denied: deciding this approval needs one of the roles (none listed); you hold operator"]
}

test_only_pending_approvals if {
	d := decide_approval({"subject": {"approval": {"status": "APPROVED"}}})
	d.reasons == ["approval_denied: this approval is APPROVED, not PENDING; only pending approvals can be decided"]
	e := decide_approval({"subject": {"approval": {"status": 1}}})
	codes(e) == {"approval_denied"}
	f := main.decision with input as json.remove(approve, ["subject/approval/status"])
	f.reasons == ["approval_denied: this approval is missing its status, so it cannot be decided"]
}

test_approval_needs_its_facts if {
	d := main.decision with input as json.remove(approve, ["subject/approval"])
	d.reasons == ["approval_denied: the request names no approval to decide (subject.approval)"]
	e := main.decision with input as json.remove(approve, ["subject/approval/requestedBy"])
	e.reasons == ["approval_denied: the approval does not say who requested the run (requestedBy), so dual control cannot be checked"]
	f := main.decision with input as json.remove(approve, ["actor/sub"])
	f.reasons == ["approval_denied: the approver is not identified (actor.sub)"]
	g := decide_approval({"subject": {"verdict": "MAYBE"}})
	g.reasons == ["approval_denied: the verdict must be APPROVE or REJECT"]
	h := main.decision with input as json.remove(approve, ["subject/approval/approvers"])
	h.allow
}

test_viewers_never_approve if {
	d := decide_approval({"actor": {"roles": ["viewer"]}, "subject": {"approval": {"eligibleRoles": ["viewer"]}}})
	codes(d) == {"rbac_denied"}
}

# ---- egress ----

step(action, s) := {
	"action": action, "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
	"tenant": {"id": "tnt_1"}, "request": {"environment": "dev", "region": "EU"},
	"subject": {"kind": "step", "step": s},
}

egress(url) := d if d := main.decision with input as step("step_egress", {"uses": "http.request", "url": url})

test_internal_egress_allows_loopback_and_listed_hosts if {
	egress("http://127.0.0.1:8080/deploy").allow
	egress("http://localhost/x").allow
	egress("http://[::1]:9000/").allow
	egress("https://api.github.com/repos").allow
	egress("https://API.GitHub.com").allow
	egress("https://ci.maestro.internal/hook?x=1").allow
}

test_egress_denies_other_hosts if {
	d := egress("https://exfil.example.net/upload")
	d.reasons == ["egress_denied: host exfil.example.net is not on the egress allow-list of this profile"]
	not egress("https://maestro.internal/").allow
	not egress("https://api.github.com.evil.io/").allow
}

test_egress_denies_url_tricks if {
	every url in [
		"https://api.github.com@evil.io/",
		`https://evil.io\@api.github.com/`,
		"https://evil.io#@api.github.com",
		"https://api.github.com:99999999/",
		"api.github.com/repos",
		"https://api.github.com /x",
	] {
		d := egress(url)
		not d.allow
		codes(d) == {"egress_denied"}
	}
}

test_egress_denies_other_schemes if {
	d := egress("ftp://localhost/")
	d.reasons == ["egress_denied: scheme ftp is not allowed (allowed: http, https)"]
}

test_egress_needs_a_url_matching_its_host if {
	d := main.decision with input as step("step_egress", {"uses": "http.request", "host": "api.github.com"})
	d.reasons == ["egress_denied: the step names no URL (subject.step.url)"]
	e := main.decision with input as step("step_egress", {"url": "https://api.github.com/", "host": "localhost"})
	e.reasons == ["egress_denied: the step says host localhost but its URL goes to api.github.com"]
	f := main.decision with input as step("step_egress", {"url": "https://api.github.com/", "host": "API.github.com"})
	f.allow
}

# ---- models ----

test_models_on_the_allow_list if {
	every m in ["gpt-4.1-mini", "claude-3.5-sonnet"] {
		main.decision.allow with input as step("step_model", {"uses": "llm.generate", "model": m})
	}
}

test_models_off_the_allow_list if {
	d := main.decision with input as step("step_model", {"uses": "llm.generate", "model": "gpt-4o-mini"})
	d.reasons == ["model_denied: model gpt-4o-mini is not on the allow-list (gpt-4.1-mini, claude-3.5-sonnet)"]
	e := main.decision with input as step("step_model", {"uses": "llm.generate"})
	e.reasons == ["model_denied: the step names no model (subject.step.model)"]
}

# ---- data classes ----

test_data_classes_deny_readable_pii_and_secrets if {
	d := decide({"subject": {"params": {
		"notify": ["ops@example.com"],
		"creds": {"aws": "AKIAIOSFODNN7EXAMPLE", "password": "hunter2"},
		"card": "4111 1111 1111 1111",
	}}})
	d.reasons == [
		"data_class_denied: params.card holds an unredacted payment card number; redact it (for example \"[REDACTED]\") before starting the run",
		"data_class_denied: params.creds.aws holds an unredacted AWS access key; redact it (for example \"[REDACTED]\") before starting the run",
		"data_class_denied: params.creds.password holds an unredacted secret (by its name); redact it (for example \"[REDACTED]\") before starting the run",
		"data_class_denied: params.notify[0] holds an unredacted email address; redact it (for example \"[REDACTED]\") before starting the run",
	]
}

test_data_classes_never_echo_the_value if {
	d := decide({"subject": {"params": {"key": "-----BEGIN PRIVATE KEY-----abc"}}})
	every r in d.reasons {
		not contains(r, "abc")
	}
}

test_data_classes_pass_redacted_values if {
	d := decide({"subject": {"params": {"notify": "[REDACTED:email]", "password": "***", "api_key": "", "token": 3, "secret": {"ref": "vault:db"}}}})
	d.allow
}

test_data_classes_only_gate_starts if {
	d := main.decision with input as object.union(approve, {"subject": {"params": {"notify": "ops@example.com"}}})
	d.allow
}

test_data_classes_with_a_bare_string_param if {
	d := decide({"subject": {"params": "ops@example.com"}})
	d.reasons == ["data_class_denied: params holds an unredacted email address; redact it (for example \"[REDACTED]\") before starting the run"]
}

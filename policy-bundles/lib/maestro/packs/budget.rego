# METADATA
# title: Daily cost budget
# description: >-
#   Per-tenant daily USD budget (seed 003 MC-POL-703, seed 000 TENANT_BUDGETS): start_workflow
#   is denied when today's spend plus the run's estimate (plan.estimatedCostUSD) would pass the
#   daily budget, and warned (budget_warning) at or past the tenant's alert threshold
#   (tenant.budget.alertThreshold, 80% when absent). A run without an estimate, or a tenant
#   without a budget, is denied. The hosted-saas profile is tighter: it stops at 90% of the
#   daily budget (head-room for estimator drift, seed 003 A2) and caps a single run at $25.
# custom:
#   examples:
#     - name: well within budget
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "quota": {"maxConcurrent": 25, "inUse": 3},
#                          "budget": {"dailyMaxUSD": 100, "spentUSD": 12.5, "alertThreshold": 0.8},
#                          "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "dev", "region": "EU"}, "plan": {"estimatedCostUSD": 3.27},
#               "subject": {"workflow": {"name": "nightly-report", "region": "EU", "environment": "dev", "risk": "low"}}}
#       allow: true
#     - name: past the alert threshold, allowed with a warning
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "quota": {"maxConcurrent": 25, "inUse": 3},
#                          "budget": {"dailyMaxUSD": 100, "spentUSD": 80, "alertThreshold": 0.8},
#                          "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "dev", "region": "EU"}, "plan": {"estimatedCostUSD": 3.27},
#               "subject": {"workflow": {"name": "nightly-report", "region": "EU", "environment": "dev", "risk": "low"}}}
#       allow: true
#       warning_code: budget_warning
#     - name: estimate exceeds what is left today
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "budget": {"dailyMaxUSD": 100, "spentUSD": 98.8}},
#               "plan": {"estimatedCostUSD": 3.27}}
#       deny: true
#       reason_code: budget_exceeded
package maestro.packs.budget

import data.maestro.lib.helpers

budget := input.tenant.budget

estimate := input.plan.estimatedCostUSD

# Where this profile stops runs, as a share of the daily budget (1 = at the budget itself).
# A setting outside (0, 1] is ignored: the stop stays at the budget itself.
default hard_limit_ratio := 1

hard_limit_ratio := ratio if {
	ratio := data.maestro.config.budget.hard_limit_ratio
	is_number(ratio)
	ratio > 0
	ratio <= 1
}

# The alert threshold: the tenant's own when it is a share in (0, 1], else the profile default.
default alert_threshold := 0.8

alert_threshold := budget.alertThreshold if {
	is_number(budget.alertThreshold)
	budget.alertThreshold > 0
	budget.alertThreshold <= 1
} else := data.maestro.config.budget.default_alert_threshold

# All amounts are compared in whole cents, so Go (opa test) and wasm agree to the cent.
daily_cents := helpers.cents(budget.dailyMaxUSD)

spent_cents := helpers.cents(budget.spentUSD)

estimate_cents := helpers.cents(estimate)

limit_cents := floor(daily_cents * hard_limit_ratio)

projected_cents := spent_cents + estimate_cents

remaining_cents := max([limit_cents - spent_cents, 0])

# A tenant without a daily budget may not start runs.
deny contains "budget_exceeded: the tenant's daily budget is unknown (tenant.budget.dailyMaxUSD and tenant.budget.spentUSD), so no run may start" if {
	input.action == "start_workflow"
	not budget_stated
}

# Nor may a run without a cost estimate (seed 003 A2: every run is estimated before it starts).
deny contains "budget_exceeded: the run has no cost estimate (plan.estimatedCostUSD); plan it before starting" if {
	input.action == "start_workflow"
	not estimated
}

# The estimate must fit in what is left of today's budget.
deny contains concat("", [
	"budget_exceeded: estimate ", helpers.usd(estimate_cents / 100), " exceeds remaining ",
	helpers.usd(remaining_cents / 100), " of the ", helpers.usd(daily_cents / 100), " daily budget", limit_note,
]) if {
	input.action == "start_workflow"
	budget_stated
	estimated
	projected_cents > limit_cents
}

# Profiles with a per-run cap (hosted-saas) deny a single run that costs more.
deny contains concat("", [
	"budget_exceeded: estimate ", helpers.usd(estimate_cents / 100), " exceeds the ",
	helpers.usd(cap), " per-run cap of this profile",
]) if {
	input.action == "start_workflow"
	cap := data.maestro.config.budget.max_run_usd
	estimated
	estimate_cents > helpers.cents(cap)
}

# Soft warning at the alert threshold (seed 003: warn at 80%, deny past 100%).
warn contains concat("", [
	"budget_warning: this run brings today's spend to ", helpers.usd(projected_cents / 100), " of the ",
	helpers.usd(daily_cents / 100), " daily budget (", helpers.percent(projected_cents / daily_cents),
	"), at or past the ", helpers.percent(alert_threshold), " alert threshold",
]) if {
	input.action == "start_workflow"
	budget_stated
	estimated
	projected_cents <= limit_cents
	projected_cents >= round(alert_threshold * daily_cents)
}

# (Rules, not function calls, in the bodies above: a rule is evaluated once per decision.)
estimated if helpers.amount(estimate)

budget_stated if {
	helpers.amount(budget.dailyMaxUSD)
	daily_cents > 0
	helpers.amount(budget.spentUSD)
}

limit_note := "" if hard_limit_ratio >= 1

else := concat("", [" (this profile stops runs at ", helpers.percent(hard_limit_ratio), " of it)"])

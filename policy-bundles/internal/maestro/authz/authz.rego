# METADATA
# title: Role-based access by action
# description: >-
#   The walking-skeleton policy of the internal profile: which tenant role may take which
#   action. Anything not listed is denied (default deny). The full policy plane (residency,
#   quota, budget, risk, approvals) builds on this package.
package maestro.authz

import rego.v1

# Actions each role may take. Viewers read; composers author; operators run; admins do all
# within their tenant. platform_admin (trusted only from the token, never from membership) may
# create tenants and nothing else: platform operators act on tenant data with a tenant token.
role_actions := {
	"viewer": {"read"},
	"composer": {"read", "publish_workflow"},
	"operator": {"read", "start_workflow", "cancel_run", "rerun_task", "edit_schedule", "approve"},
	"admin": {"read", "publish_workflow", "start_workflow", "cancel_run", "rerun_task", "edit_schedule", "approve", "manage_members"},
	"platform_admin": {"create_tenant"},
}

default allow := false

allow if {
	some role in input.actor.roles
	input.action in role_actions[role]
}

reasons contains sprintf("role(s) %v may not %s", [input.actor.roles, input.action]) if not allow

decision := {
	"allow": allow,
	"reasons": [r | some r in reasons],
}

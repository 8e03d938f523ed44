# The one role table of the policy plane, shared by both profiles and both entrypoints
# (`maestro/authz/decision`, the legacy role check, and `maestro/main/decision`).
#
# Tenant roles follow seed 002 §15 and the `tenant_members.role` check of seed 003 §6:
# viewers read; composers author; operators run; admins do everything within their tenant.
# `platform_admin` is trusted only from the token, never from tenant membership: it may create
# tenants and nothing else (platform operators act on tenant data with a tenant token).
package maestro.lib.roles

# Actions each role may take. `step_egress` and `step_model` are checked when a run's steps
# execute, on behalf of whoever started the run, so they go with the roles that may start runs.
# Arrays, not sets: the wasm bundle builds this table in every evaluation that consults it,
# and an array is the cheaper build (no hashing).
role_actions := {
	"viewer": ["read"],
	"composer": ["read", "publish_workflow"],
	"operator": [
		"read", "start_workflow", "cancel_run", "rerun_task", "edit_schedule", "approve",
		"step_egress", "step_model",
	],
	"admin": [
		"read", "publish_workflow", "start_workflow", "cancel_run", "rerun_task", "edit_schedule",
		"approve", "manage_members", "step_egress", "step_model",
	],
	"platform_admin": ["create_tenant"],
}

# Every action some rule of the policy plane knows about. Anything else has no rule: denied.
known_actions := {action | some actions in role_actions; some action in actions}

# `action in known_actions` without building that set: the wasm bundle builds a rule's set in
# every evaluation. Decisions ask through helpers.known_action, once per evaluation.
known(action) if {
	some actions in role_actions
	action in actions
}

# The roles of an actor: the strings of an array (anything else, e.g. a bare string, is no roles).
of(actor_roles) := [r | some r in actor_roles; is_string(r)] if is_array(actor_roles)

else := []

# True when one of the roles may take the action.
allows(actor_roles, action) if {
	is_array(actor_roles)
	some role in actor_roles
	action in role_actions[role]
}

# The roles that may take an action, sorted (for messages).
holders(action) := sort([role | some role, actions in role_actions; action in actions])

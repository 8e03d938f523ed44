# METADATA
# title: Role-based access by action
# description: >-
#   RBAC/ABAC baseline (seed 002 §15): which tenant role may take which action, from the one
#   role table in maestro.lib.roles. Viewers read; composers publish; operators start, cancel,
#   rerun, schedule and approve; admins do all of that and manage members; platform_admin only
#   creates tenants. An action no rule covers is denied (no_rule), as is an action the actor's
#   roles do not grant (rbac_denied). ABAC: an actor bound to another tenant is denied; the
#   hosted-saas profile requires the binding (actor.tenant and tenant.id) on tenant actions.
#   Also serves the legacy entrypoint maestro/authz/decision ({allow, reasons}, role check only).
# custom:
#   examples:
#     - name: a viewer may read
#       input: {"action": "read", "actor": {"sub": "vic", "roles": ["viewer"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "prod", "region": "EU"}}
#       allow: true
#     - name: a viewer may not start a workflow
#       input: {"action": "start_workflow", "actor": {"sub": "vic", "roles": ["viewer"], "tenant": "tnt_1"}}
#       deny: true
#       reason_code: rbac_denied
#     - name: only platform_admin creates tenants
#       input: {"action": "create_tenant", "actor": {"sub": "root", "roles": ["platform_admin"]}}
#       allow: true
#     - name: an actor of another tenant is denied
#       input: {"action": "read", "actor": {"sub": "eve", "roles": ["admin"], "tenant": "tnt_2"},
#               "tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "prod", "region": "EU"}}
#       deny: true
#       reason_code: rbac_denied
#     - name: an action no rule covers is denied
#       input: {"action": "drop_tables", "actor": {"sub": "ada", "roles": ["admin"], "tenant": "tnt_1"}}
#       deny: true
#       reason_code: no_rule
package maestro.authz

import data.maestro.lib.helpers
import data.maestro.lib.roles

# ---------------------------------------------------------------------------------------------
# Legacy entrypoint maestro/authz/decision: the role check alone, {allow, reasons}. The API's
# scope checks (read, manage_members, create_tenant, ...) use it; its messages are unchanged.
# ---------------------------------------------------------------------------------------------

default allow := false

allow if roles.allows(input.actor.roles, input.action)

reasons contains concat("", ["role(s) ", json.marshal(roles.of(input.actor.roles)), " may not ", action_text]) if {
	not allow
}

decision := {
	"allow": allow,
	"reasons": [r | some r in reasons],
}

# ---------------------------------------------------------------------------------------------
# The RBAC/ABAC pack of maestro/main/decision.
# ---------------------------------------------------------------------------------------------

# The role table grants the action (the positive rule every allowed decision needs).
granted if allow

# No action named.
deny contains "no_rule: the request names no action" if not action_named

# An action no rule covers.
deny contains concat("", ["no_rule: no policy rule covers the action \"", input.action, "\""]) if {
	helpers.present(input.action)
	not helpers.known_action
}

# A known action the actor's roles do not grant.
deny contains concat("", [
	"rbac_denied: ", holding, " may not ", input.action,
	" (it needs one of: ", helpers.join(roles.holders(input.action)), ")",
]) if {
	helpers.known_action
	not allow
	holding := held_roles_text
}

# ABAC: the actor must belong to the tenant the request is about.
deny contains concat("", ["rbac_denied: you belong to tenant ", input.actor.tenant, ", not to tenant ", input.tenant.id]) if {
	helpers.tenant_action
	helpers.present(input.actor.tenant)
	helpers.present(input.tenant.id)
	input.actor.tenant != input.tenant.id
}

# Profiles that require the binding (hosted-saas) deny tenant actions that do not state it.
deny contains "rbac_denied: the request does not bind you to a tenant (actor.tenant and tenant.id are required)" if {
	data.maestro.config.authz.require_tenant_binding == true
	helpers.tenant_action
	not tenant_bound
}

# Helper rules, so that `not` never applies to a function of a missing input field (which Rego
# evaluates as undefined rather than true).
action_named if helpers.present(input.action)

tenant_bound if {
	helpers.present(input.actor.tenant)
	helpers.present(input.tenant.id)
}

action_text := input.action if is_string(input.action)

else := "(no action)"

held_roles_text := concat("", ["role(s) ", helpers.join(roles.of(input.actor.roles))]) if {
	count(roles.of(input.actor.roles)) > 0
}

else := "you hold no role here, so you"

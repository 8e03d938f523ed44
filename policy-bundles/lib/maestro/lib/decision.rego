# Composes the decision document of `maestro/main/decision` from the packs a profile enforces.
#
#   {
#     "allow": bool,               granted by the role table AND denied by no pack
#     "requires_approval": bool,   only ever true when allow is true
#     "approval": {"count": int, "roles": [string]},   {0, []} unless approval is required
#     "reasons": [string],         why not: empty when allowed, never empty when denied
#     "warnings": [string]         e.g. "budget_warning: ...", also on allowed decisions
#   }
#
# Every reason starts with a stable code and ": " (rbac_denied, residency_mismatch,
# quota_exceeded, budget_exceeded, approval_denied, egress_denied, model_denied,
# data_class_denied, environment_isolation, no_rule); the engine maps codes to error codes.
package maestro.lib.decision

# granted: the role table lets the actor take the action (default deny without it).
# denials, warnings: sets of messages from the packs. requirement: {count, roles} from the
# risk pack, count 0 when no approval is needed.
compose(granted, denials, warnings, requirement) := {
	"allow": allow,
	"requires_approval": allow_with_approval(allow, requirement),
	"approval": approval(allow, requirement),
	"reasons": reasons(allow, denials),
	"warnings": sort(warnings),
} if {
	allow := allowed(granted, denials)
}

allowed(granted, denials) if {
	granted == true
	count(denials) == 0
}

else := false

allow_with_approval(allow, requirement) if {
	allow
	requirement.count > 0
}

else := false

approval(allow, requirement) := {"count": requirement.count, "roles": requirement.roles} if {
	allow_with_approval(allow, requirement)
}

else := {"count": 0, "roles": []}

reasons(allow, denials) := [] if allow

else := sort(denials) if {
	count(denials) > 0
}

# Denied with nothing to say: no pack objected, yet no rule granted the action.
else := ["no_rule: no policy rule allows this request"]

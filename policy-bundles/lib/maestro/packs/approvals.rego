# METADATA
# title: Approval decisions
# description: >-
#   Who may decide an approval (action approve): the approver must hold one of the approval's
#   eligible roles, must not be the one who requested the run (dual control), must not have
#   decided it already, and the approval must still be PENDING; the verdict is APPROVE or
#   REJECT. The engine enforces dual control in code as well.
# custom:
#   examples:
#     - name: a second operator approves
#       input: {"action": "approve", "actor": {"sub": "grace", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "prod", "region": "EU"},
#               "subject": {"kind": "approval", "verdict": "APPROVE",
#                           "workflow": {"name": "intelgraph-build", "region": "EU", "environment": "prod", "risk": "high"},
#                           "approval": {"requestedBy": "ada", "eligibleRoles": ["operator", "admin"], "approvers": [], "status": "PENDING"}}}
#       allow: true
#     - name: the requester may not approve their own run
#       input: {"action": "approve", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "subject": {"verdict": "APPROVE",
#                           "approval": {"requestedBy": "ada", "eligibleRoles": ["operator", "admin"], "approvers": [], "status": "PENDING"}}}
#       deny: true
#       reason_code: approval_denied
package maestro.packs.approvals

import data.maestro.lib.helpers
import data.maestro.lib.roles

approval := input.subject.approval

approver := input.actor.sub

deny contains "approval_denied: the request names no approval to decide (subject.approval)" if {
	input.action == "approve"
	not approval_named
}

deny contains "approval_denied: the approver is not identified (actor.sub)" if {
	input.action == "approve"
	not approver_known
}

deny contains concat("", ["approval_denied: this approval is ", status_text, ", not PENDING; only pending approvals can be decided"]) if {
	input.action == "approve"
	is_object(approval)
	approval.status != "PENDING"
}

deny contains "approval_denied: this approval is missing its status, so it cannot be decided" if {
	input.action == "approve"
	is_object(approval)
	not approval.status
}

# Dual control: whoever requested the run does not approve it. Without a requester on record
# the rule cannot be checked, so the approval is not decided either.
deny contains concat("", ["approval_denied: ", approver, " requested this run and may not decide its approval (dual control)"]) if {
	input.action == "approve"
	helpers.present(approver)
	approval.requestedBy == approver
}

deny contains "approval_denied: the approval does not say who requested the run (requestedBy), so dual control cannot be checked" if {
	input.action == "approve"
	approval_named
	not requester_known
}

# One decision per approver.
deny contains concat("", ["approval_denied: ", approver, " has already decided this approval"]) if {
	input.action == "approve"
	helpers.present(approver)
	approver in helpers.strings(approval.approvers)
}

# The approver needs an eligible role.
deny contains concat("", [
	"approval_denied: deciding this approval needs one of the roles ", eligible_text,
	"; you hold ", held_text,
]) if {
	input.action == "approve"
	is_object(approval)
	not eligible
}

deny contains "approval_denied: the verdict must be APPROVE or REJECT" if {
	input.action == "approve"
	not verdict_valid
}

# Helper rules: `not` applies to these, never to a function of a missing input field.
approval_named if is_object(approval)

approver_known if helpers.present(approver)

requester_known if helpers.present(approval.requestedBy)

verdict_valid if input.subject.verdict in {"APPROVE", "REJECT"}

eligible if {
	some role in roles.of(input.actor.roles)
	role in helpers.strings(approval.eligibleRoles)
}

status_text := approval.status if is_string(approval.status)

else := "not a status"

eligible_text := helpers.join(helpers.strings(approval.eligibleRoles)) if {
	count(helpers.strings(approval.eligibleRoles)) > 0
} else := "(none listed)"

held_text := helpers.join(roles.of(input.actor.roles)) if {
	count(roles.of(input.actor.roles)) > 0
} else := "none"

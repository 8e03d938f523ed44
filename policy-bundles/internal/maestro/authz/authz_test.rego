package maestro.authz_test

import rego.v1

import data.maestro.authz

test_viewer_may_read if authz.allow with input as {"action": "read", "actor": {"roles": ["viewer"]}}

test_viewer_may_not_start if {
	d := authz.decision with input as {"action": "start_workflow", "actor": {"roles": ["viewer"]}}
	not d.allow
	count(d.reasons) == 1
}

test_operator_may_start if authz.allow with input as {"action": "start_workflow", "actor": {"roles": ["operator"]}}

test_composer_may_publish_not_start if {
	authz.allow with input as {"action": "publish_workflow", "actor": {"roles": ["composer"]}}
	not authz.allow with input as {"action": "start_workflow", "actor": {"roles": ["composer"]}}
}

test_unknown_action_denied if not authz.allow with input as {"action": "drop_tables", "actor": {"roles": ["admin"]}}

test_no_roles_denied if not authz.allow with input as {"action": "read", "actor": {"roles": []}}

test_missing_actor_denied if not authz.allow with input as {"action": "read"}

test_allowed_decision_has_no_reasons if {
	d := authz.decision with input as {"action": "approve", "actor": {"roles": ["admin"]}}
	d.allow
	d.reasons == []
}

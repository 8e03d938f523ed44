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

test_platform_admin_may_create_tenant if {
	d := authz.decision with input as {"action": "create_tenant", "actor": {"roles": ["platform_admin"]}}
	d.allow
	d.reasons == []
}

test_only_platform_admin_may_create_tenant if {
	every role in ["admin", "operator", "composer", "viewer"] {
		not authz.allow with input as {"action": "create_tenant", "actor": {"roles": [role]}}
	}
}

test_platform_admin_holds_no_tenant_action if {
	every action in ["read", "manage_members", "start_workflow", "publish_workflow", "approve"] {
		not authz.allow with input as {"action": action, "actor": {"roles": ["platform_admin"]}}
	}
}

test_platform_admin_who_is_also_a_member_keeps_the_member_role if {
	authz.allow with input as {"action": "read", "actor": {"roles": ["viewer", "platform_admin"]}}
	authz.allow with input as {"action": "create_tenant", "actor": {"roles": ["viewer", "platform_admin"]}}
}

test_only_admin_may_manage_members if {
	authz.allow with input as {"action": "manage_members", "actor": {"roles": ["admin"]}}
	every role in ["operator", "composer", "viewer"] {
		not authz.allow with input as {"action": "manage_members", "actor": {"roles": [role]}}
	}
}

test_create_tenant_denial_names_the_roles if {
	d := authz.decision with input as {"action": "create_tenant", "actor": {"roles": ["admin"]}}
	not d.allow
	d.reasons == [`role(s) ["admin"] may not create_tenant`]
}

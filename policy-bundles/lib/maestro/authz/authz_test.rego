package maestro.authz_test

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

# ---- legacy entrypoint: robust to odd inputs ----

test_legacy_decision_without_action_names_no_action if {
	d := authz.decision with input as {"actor": {"roles": ["admin"]}}
	not d.allow
	d.reasons == [`role(s) ["admin"] may not (no action)`]
}

test_legacy_roles_as_a_string_are_no_roles if {
	d := authz.decision with input as {"action": "read", "actor": {"roles": "admin"}}
	not d.allow
	d.reasons == [`role(s) [] may not read`]
}

test_step_actions_go_with_the_roles_that_start_runs if {
	every action in ["step_egress", "step_model"] {
		authz.allow with input as {"action": action, "actor": {"roles": ["operator"]}}
		authz.allow with input as {"action": action, "actor": {"roles": ["admin"]}}
		not authz.allow with input as {"action": action, "actor": {"roles": ["composer"]}}
	}
}

# ---- the RBAC/ABAC pack (maestro/main/decision) ----

test_pack_grants_what_the_role_table_grants if {
	authz.granted with input as {"action": "publish_workflow", "actor": {"roles": ["composer"]}}
	not authz.granted with input as {"action": "publish_workflow", "actor": {"roles": ["operator"]}}
}

test_pack_names_the_roles_an_action_needs if {
	authz.deny == {"rbac_denied: role(s) viewer may not start_workflow (it needs one of: admin, operator)"} with input as {"action": "start_workflow", "actor": {"roles": ["viewer"]}}
		with data.maestro.config as {}
}

test_pack_without_roles if {
	authz.deny == {"rbac_denied: you hold no role here, so you may not read (it needs one of: admin, composer, operator, viewer)"} with input as {"action": "read"}
		with data.maestro.config as {}
}

test_pack_no_rule_for_unknown_or_missing_actions if {
	authz.deny == {`no_rule: no policy rule covers the action "drop_tables"`} with input as {"action": "drop_tables", "actor": {"roles": ["admin"]}}
	authz.deny == {"no_rule: the request names no action"} with input as {"actor": {"roles": ["admin"]}}
	authz.deny == {"no_rule: the request names no action"} with input as {"action": 7, "actor": {"roles": ["admin"]}}
}

test_pack_denies_an_actor_of_another_tenant if {
	authz.deny == {"rbac_denied: you belong to tenant tnt_2, not to tenant tnt_1"} with input as {
		"action": "read", "actor": {"roles": ["admin"], "tenant": "tnt_2"}, "tenant": {"id": "tnt_1"},
	}
		with data.maestro.config as {}
}

test_pack_tenant_binding_when_required if {
	req := {"action": "read", "actor": {"roles": ["admin"]}}
	authz.deny == set() with input as req with data.maestro.config as {"authz": {"require_tenant_binding": false}}
	authz.deny == {"rbac_denied: the request does not bind you to a tenant (actor.tenant and tenant.id are required)"} with input as req
		with data.maestro.config as {"authz": {"require_tenant_binding": true}}

	# create_tenant is not a tenant action: no binding needed.
	authz.deny == set() with input as {"action": "create_tenant", "actor": {"roles": ["platform_admin"]}}
		with data.maestro.config as {"authz": {"require_tenant_binding": true}}
}

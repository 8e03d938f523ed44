package maestro.lib.roles_test

import data.maestro.lib.roles

test_known_actions_are_the_contract_actions if {
	roles.known_actions == {
		"read", "publish_workflow", "start_workflow", "cancel_run", "rerun_task", "edit_schedule",
		"approve", "manage_members", "create_tenant", "step_egress", "step_model",
	}
}

test_known_matches_known_actions if {
	{a | some a in (roles.known_actions | {"drop_tables", "", "READ"}); roles.known(a)} == roles.known_actions
	not roles.known(json.unmarshal("7"))
}

test_of_keeps_only_strings_of_an_array if {
	roles.of(["admin", 7, "viewer"]) == ["admin", "viewer"]
	roles.of("admin") == []
	roles.of({"admin": true}) == []
}

test_allows if {
	roles.allows(["viewer", "composer"], "publish_workflow")
	not roles.allows(["viewer"], "publish_workflow")
	not roles.allows("admin", "read")
	not roles.allows({"x": "admin"}, "read")
	not roles.allows(["admin", 7], "create_tenant")
	roles.allows([7, "admin"], "read")
}

test_holders_are_sorted if {
	roles.holders("start_workflow") == ["admin", "operator"]
	roles.holders("create_tenant") == ["platform_admin"]
	roles.holders("drop_tables") == []
}

package maestro.lib.helpers_test

import data.maestro.lib.helpers
import data.maestro.lib.roles

test_usd_formats_cents if {
	helpers.usd(3.27) == "$3.27"
	helpers.usd(100) == "$100.00"
	helpers.usd(1.2) == "$1.20"
	helpers.usd(0.05) == "$0.05"
	helpers.usd(-1.2) == "-$1.20"
	helpers.usd(-0.001) == "$0.00"
	helpers.usd(1234.5) == "$1234.50"
}

test_cents_and_percent if {
	helpers.cents(12.5) == 1250
	helpers.percent(0.8) == "80%"
	helpers.percent(0.855) == "86%"
}

test_present_and_amount if {
	helpers.present("x")
	not helpers.present("  ")
	not helpers.present(3)
	helpers.amount(0)
	not helpers.amount(-1)
	not helpers.amount("3")
}

test_strings_and_join if {
	helpers.strings(["a", 1, "b"]) == ["a", "b"]
	helpers.strings("a") == []
	helpers.join(["a", "b"]) == "a, b"
	helpers.list_text(["a"]) == "a"
	helpers.list_text([]) == "none"
	helpers.int_text(25) == "25"
}

test_action_groups if {
	not "create_tenant" in helpers.tenant_actions
	"manage_members" in helpers.tenant_actions
	not "manage_members" in helpers.workflow_actions
	"step_egress" in helpers.workflow_actions
}

# The classification of input.action agrees with the sets, over every known action and others.
test_action_classification_matches_the_sets if {
	candidates := roles.known_actions | {"drop_tables", "", "READ"}
	{a | some a in candidates; helpers.known_action with input.action as a} == roles.known_actions
	{a | some a in candidates; helpers.tenant_action with input.action as a} == helpers.tenant_actions
	{a | some a in candidates; helpers.workflow_action with input.action as a} == helpers.workflow_actions
	not helpers.known_action with input.action as 7
	not helpers.known_action with input as {}
}

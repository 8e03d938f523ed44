# Small helpers shared by the packs: action groups, safe accessors and message formatting.
#
# Messages reach users verbatim and must read the same from `opa test` (Go) and from the
# compiled wasm (whose `sprintf` is JavaScript's), so they are built with `concat` and
# `format_int` rather than `sprintf`: the two `sprintf`s format numbers and arrays differently.
package maestro.lib.helpers

import data.maestro.lib.roles

# Actions on a tenant's data: everything but creating tenants.
tenant_actions := roles.known_actions - {"create_tenant"}

# Actions that touch workflows, runs, tasks, schedules or steps. These are regional and belong
# to an environment; membership management (tenant-wide) is not.
workflow_actions := tenant_actions - {"manage_members"}

# The request's action (input.action) classified once per decision, for the packs: the same as
# `input.action in roles.known_actions`, `in tenant_actions` and `in workflow_actions`, without
# building those sets in every evaluation (the wasm bundle memoizes rules per evaluation only).
known_action if roles.known(input.action)

tenant_action if {
	known_action
	input.action != "create_tenant"
}

workflow_action if {
	tenant_action
	input.action != "manage_members"
}

# True for a string with something other than whitespace in it.
present(x) if {
	is_string(x)
	trim_space(x) != ""
}

# True for a finite, non-negative number.
amount(x) if {
	is_number(x)
	x >= 0
}

# The strings of an array (anything else gives []).
strings(x) := [s | some s in x; is_string(s)] if is_array(x)

else := []

# "a, b, c" from a list or set of strings.
join(xs) := concat(", ", [s | some s in xs; is_string(s)])

# The same, or "none" for an empty list.
list_text(xs) := join(xs) if count(xs) > 0

else := "none"

# A whole number as text ("3"); non-integral numbers are truncated.
int_text(n) := format_int(n, 10)

# US dollars with cents: 3.27 -> "$3.27", 100 -> "$100.00", -1.2 -> "-$1.20".
usd(x) := concat("", [sign, "$", format_int(whole, 10), ".", two_digits(all_cents - (whole * 100))]) if {
	all_cents := round(abs(x) * 100)
	whole := floor(all_cents / 100)
	sign := minus_sign(x, all_cents)
}

# The cents of an amount, as a whole number (so comparisons are exact in Go and in wasm).
cents(x) := round(x * 100)

# A ratio as a whole percentage: 0.8 -> "80%".
percent(ratio) := concat("", [format_int(round(ratio * 100), 10), "%"])

# "-" for an amount that is negative even when rounded to the cent.
minus_sign(x, rounded_cents) := "-" if {
	x < 0
	rounded_cents > 0
}

else := ""

two_digits(n) := concat("", ["0", format_int(n, 10)]) if n < 10

else := format_int(n, 10)

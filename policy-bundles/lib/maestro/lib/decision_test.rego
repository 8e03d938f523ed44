package maestro.lib.decision_test

import data.maestro.lib.decision

none := {"count": 0, "roles": []}

dual := {"count": 2, "roles": ["admin", "operator"]}

test_granted_and_not_denied_is_allowed if {
	decision.compose(true, set(), set(), none) == {
		"allow": true, "requires_approval": false, "approval": none, "reasons": [], "warnings": [],
	}
}

test_approval_only_on_allowed_decisions if {
	d := decision.compose(true, set(), {"budget_warning: w"}, dual)
	d.requires_approval
	d.approval == dual
	d.warnings == ["budget_warning: w"]
	e := decision.compose(true, {"quota_exceeded: q"}, set(), dual)
	not e.allow
	not e.requires_approval
	e.approval == none
	e.reasons == ["quota_exceeded: q"]
}

test_not_granted_without_reasons_is_no_rule if {
	d := decision.compose(false, set(), set(), none)
	not d.allow
	d.reasons == ["no_rule: no policy rule allows this request"]
}

test_reasons_are_sorted if {
	d := decision.compose(false, {"rbac_denied: b", "budget_exceeded: a"}, set(), none)
	d.reasons == ["budget_exceeded: a", "rbac_denied: b"]
}

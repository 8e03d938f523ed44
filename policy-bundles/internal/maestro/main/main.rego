# The entrypoint of the internal profile: maestro/main/decision.
#
# Always defined: {allow, requires_approval, approval: {count, roles}, reasons, warnings}
# (see maestro.lib.decision). An action is allowed only when the role table grants it and no
# pack below denies it; anything else is denied with at least one coded reason.
#
# internal enforces the shared packs with the settings of ../../data.json: tenant binding
# checked when stated, region pinning when the tenant lists regions, the daily budget up to
# 100%, approvals (2 for high-risk, 1 for other prod runs), loopback and a few hosts for egress.
# It does not isolate environments (see hosted-saas).
package maestro.main

import data.maestro.authz
import data.maestro.lib.decision as composer
import data.maestro.packs.approvals
import data.maestro.packs.budget
import data.maestro.packs.data_classes
import data.maestro.packs.egress
import data.maestro.packs.models
import data.maestro.packs.quota
import data.maestro.packs.residency
import data.maestro.packs.risk

denials := union({
	authz.deny,
	residency.deny,
	quota.deny,
	budget.deny,
	approvals.deny,
	egress.deny,
	models.deny,
	data_classes.deny,
})

warnings := budget.warn

default granted := false

granted if authz.granted

decision := composer.compose(granted, denials, warnings, risk.requirement)

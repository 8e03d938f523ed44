# The entrypoint of the hosted-saas profile: maestro/main/decision.
#
# Always defined: {allow, requires_approval, approval: {count, roles}, reasons, warnings}
# (see maestro.lib.decision). An action is allowed only when the role table grants it and no
# pack below denies it; anything else is denied with at least one coded reason.
#
# hosted-saas is the stricter profile (../../data.json): the actor must be bound to the tenant,
# every tenant must pin its regions, runs stop at 90% of the daily budget and at $25 each,
# high-risk or prod runs need 2 approvals (unknown risk counts as high), egress is https to a
# short list, and environments are isolated (maestro.packs.isolation, this profile only).
package maestro.main

import data.maestro.authz
import data.maestro.lib.decision as composer
import data.maestro.packs.approvals
import data.maestro.packs.budget
import data.maestro.packs.data_classes
import data.maestro.packs.egress
import data.maestro.packs.isolation
import data.maestro.packs.models
import data.maestro.packs.quota
import data.maestro.packs.residency
import data.maestro.packs.risk

denials := union({
	authz.deny,
	residency.deny,
	isolation.deny,
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

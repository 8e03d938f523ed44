# METADATA
# title: Environment isolation
# description: >-
#   hosted-saas only. Every workflow action is scoped to one environment: the request must name
#   its environment (request.environment), and may only touch a workflow of that same
#   environment, so a prod request reaches prod workflows and nothing else (and a staging
#   request never reaches prod). A workflow whose environment is unknown is not started.
# custom:
#   examples:
#     - name: prod request on a prod workflow
#       input: {"action": "cancel_run", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "prod", "region": "EU"},
#               "subject": {"kind": "run", "workflow": {"name": "intelgraph-build", "region": "EU", "environment": "prod"}}}
#       allow: true
#     - name: prod request on a staging workflow
#       input: {"action": "cancel_run", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "prod", "region": "EU"},
#               "subject": {"kind": "run", "workflow": {"name": "intelgraph-build", "region": "EU", "environment": "staging"}}}
#       deny: true
#       reason_code: environment_isolation
package maestro.packs.isolation

import data.maestro.lib.helpers

workflow := input.subject.workflow

environment := input.request.environment

deny contains "environment_isolation: the request names no environment (request.environment); every request must be scoped to one" if {
	helpers.workflow_action
	not environment_named
}

deny contains concat("", [
	"environment_isolation: workflow ", workflow_name, " belongs to the ", workflow.environment,
	" environment; a ", environment, " request may not touch it",
]) if {
	helpers.workflow_action
	helpers.present(environment)
	helpers.present(workflow.environment)
	workflow.environment != environment
}

deny contains concat("", ["environment_isolation: the environment of workflow ", workflow_name, " is unknown, so it cannot be started"]) if {
	input.action == "start_workflow"
	not workflow_environment_known
}

# Helper rules: `not` applies to these, never to a function of a missing input field.
environment_named if helpers.present(environment)

workflow_environment_known if helpers.present(workflow.environment)

workflow_name := workflow.name if helpers.present(workflow.name)

else := "(unnamed)"

# METADATA
# title: Model allow-list
# description: >-
#   Language models for llm.generate steps (action step_model): only the models on the
#   allow-list of seed 000 (gpt-4.1-mini, claude-3.5-sonnet, routed through mc-llm-proxy) may
#   be called; a step that names no model is denied.
# custom:
#   examples:
#     - name: an allowed model
#       input: {"action": "step_model", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "prod", "region": "EU"},
#               "subject": {"kind": "step", "step": {"uses": "llm.generate", "model": "claude-3.5-sonnet"}}}
#       allow: true
#     - name: a model off the list
#       input: {"action": "step_model", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "subject": {"kind": "step", "step": {"uses": "llm.generate", "model": "gpt-4o-mini"}}}
#       deny: true
#       reason_code: model_denied
package maestro.packs.models

import data.maestro.lib.helpers

default allowed_models := []

allowed_models := helpers.strings(data.maestro.config.models.allowed)

model := input.subject.step.model

deny contains "model_denied: the step names no model (subject.step.model)" if {
	input.action == "step_model"
	not model_named
}

deny contains concat("", ["model_denied: model ", model, " is not on the allow-list (", helpers.list_text(allowed_models), ")"]) if {
	input.action == "step_model"
	helpers.present(model)
	not model in allowed_models
}

model_named if helpers.present(model)

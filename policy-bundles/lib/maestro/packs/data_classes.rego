# METADATA
# title: Data classes
# description: >-
#   Regulated data and secrets stay out of runs (seed 002 §3 "Regulated (PII/PHI) must be
#   denied or redacted", seed 000 Epic 4): start_workflow is denied when any string in the run
#   parameters (subject.params, searched recursively) carries readable PII or a secret: email
#   addresses, AWS access keys, private keys, bearer tokens, GitHub tokens, US social security
#   numbers, payment card numbers (Luhn-checked); or when a parameter named like a secret
#   (password, secret, api_key, access_token, ...) holds anything but a redaction marker. Redacted values
#   ("[REDACTED]", "[REDACTED:email]", "***") pass. Reasons name the parameter and the kind of
#   data, never the value.
# custom:
#   examples:
#     - name: redacted parameters
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "quota": {"maxConcurrent": 25, "inUse": 3},
#                          "budget": {"dailyMaxUSD": 100, "spentUSD": 12.5, "alertThreshold": 0.8},
#                          "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "dev", "region": "EU"}, "plan": {"estimatedCostUSD": 3.27},
#               "subject": {"workflow": {"name": "nightly-report", "region": "EU", "environment": "dev", "risk": "low"},
#                           "params": {"notify": "[REDACTED:email]", "password": "***", "targets": ["api", "web"]}}}
#       allow: true
#     - name: an email address in a parameter
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "subject": {"params": {"notify": "ada@example.com"}}}
#       deny: true
#       reason_code: data_class_denied
#     - name: an AWS access key nested in a list
#       input: {"action": "start_workflow", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "subject": {"params": {"env": [{"name": "AWS", "value": "AKIAIOSFODNN7EXAMPLE"}]}}}
#       deny: true
#       reason_code: data_class_denied
package maestro.packs.data_classes

import data.maestro.lib.pii

# [where, what]: readable PII or a secret in a string parameter, at any depth.
findings contains [where(path), kind] if {
	walk(input.subject.params, [path, value])
	is_string(value)
	pii.may_hold_markers(value) # markers' own first screen, here so a clean string costs no call
	some kind in pii.markers(value)
}

# A parameter named like a secret that is not redacted.
findings contains [where(path), "secret (by its name)"] if {
	walk(input.subject.params, [path, value])
	count(path) > 0
	pii.sensitive(path[count(path) - 1])
	not redacted_value(value)
}

deny contains concat("", [
	"data_class_denied: ", place, " holds an unredacted ", kind,
	"; redact it (for example \"[REDACTED]\") before starting the run",
]) if {
	input.action == "start_workflow"
	some [place, kind] in findings
}

# Redacted, or nothing to leak: a redaction marker, an empty string, or a non-string scalar
# (a number or boolean under a name like "token" is a setting, not a secret). Objects and
# arrays under such a name are searched element by element by the pattern rule above.
redacted_value(value) if {
	is_string(value)
	pii.redacted(value)
}

redacted_value(value) if not is_string(value)

# "params.customer.emails[0]" from a walk path.
where(path) := concat("", ["params", concat("", [segment(p) | some p in path])])

segment(p) := concat("", ["[", format_int(p, 10), "]"]) if is_number(p)

else := concat("", [".", p]) if is_string(p)

else := ".?"

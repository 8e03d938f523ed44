# Markers of regulated data (seed 002 §3: PII/PHI "must be denied or redacted") and of secrets
# in free text. Used by the data-classes pack on run parameters.
#
# Redaction convention: a redacted value is replaced by a marker such as "[REDACTED]",
# "[REDACTED:email]" or "***". Markers never match the patterns below, so a string is flagged
# only for what is still readable in it: "mail [REDACTED] today" passes, "mail ada@x.io" does not.
package maestro.lib.pii

# Patterns of readable PII and secrets, by the name used in messages. RE2 syntax (the same
# engine in `opa test` and in the wasm bundle).
patterns := {
	"email address": `[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`,
	"AWS access key": `\b(AKIA|ASIA)[0-9A-Z]{16}\b`,
	"private key": `-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----`,
	"bearer token": `(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}`,
	"GitHub token": `\bgh[pousr]_[A-Za-z0-9]{36,}\b`,
	"US social security number": `\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b`,
}

# Candidate payment card numbers: 13 to 19 digits, optionally grouped by spaces or dashes.
# Only candidates that pass the Luhn checksum count, which keeps ids and timestamps out.
card_candidate := `\b[0-9](?:[ -]?[0-9]){12,18}\b`

# Parameter names whose value is a secret whatever it looks like (compare seed 002 §12).
sensitive_key := `(?i)^(password|passwd|pwd|secret|client[_-]?secret|api[_-]?key|api[_-]?token|access[_-]?token|auth[_-]?token|private[_-]?key|ssn)$`

# A redaction marker standing for the whole value.
redaction_marker := `^\s*(\[REDACTED(:[^\]]*)?\]|\*{3,})\s*$`

# The kinds of readable PII or secrets in a string (empty when there are none).
markers(s) := {kind | some kind, pattern in patterns; regex.match(pattern, s)} | cards(s)

cards(s) := {"payment card number" |
	some m in regex.find_all_string_submatch_n(card_candidate, s, -1)
	luhn(replace(replace(m[0], " ", ""), "-", ""))
}

# True for a value that is redacted as a whole (or empty).
redacted(s) if regex.match(redaction_marker, s)

redacted(s) if trim_space(s) == ""

# True when a parameter name marks its value as a secret.
sensitive(key) if {
	is_string(key)
	regex.match(sensitive_key, key)
}

# The Luhn checksum (ISO/IEC 7812) of a string of digits: from the rightmost digit, double every
# second digit (subtracting 9 when that exceeds 9); the sum must be a multiple of 10.
luhn(digits) if {
	n := count(digits)
	total := sum([luhn_term(to_number(substring(digits, i, 1)), (n - 1) - i) | some i in numbers.range(0, n - 1)])
	total % 10 == 0
}

luhn_term(d, position) := d if position % 2 == 0

else := (d * 2) - 9 if d > 4

else := d * 2

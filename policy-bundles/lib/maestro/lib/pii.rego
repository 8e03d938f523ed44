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
#
# Speed: the wasm bundle compiles a regex afresh in every evaluation that uses it (its builtin
# cache lives on the per-evaluation heap), at 30-100 µs per pattern, so running every pattern
# on every parameter cost about 1 ms per decision. Each pattern is therefore behind a screen, a
# cheap necessary condition written with plain string builtins (a literal the pattern cannot
# match without, a minimum length): a pattern is compiled and run only on strings that pass
# its screen, so the answer is the same and ordinary parameters never reach a regex.
markers(s) := {kind | some kind, pattern in patterns; screen(kind, s); regex.match(pattern, s)} | cards(s) if {
	may_hold_markers(s)
} else := set()

cards(s) := {"payment card number" |
	card_screen(s)
	some m in regex.find_all_string_submatch_n(card_candidate, s, -1)
	luhn(replace(replace(m[0], " ", ""), "-", ""))
}

# The first screen: an email address needs "@"; every other pattern needs 11 characters at least.
may_hold_markers(s) if contains(s, "@")

may_hold_markers(s) if count(s) >= 11

# Screens: true whenever the pattern of that kind could match s (false positives are fine, the
# pattern decides). Lengths are in characters (`count` of a string), each pattern's minimum.
screen("email address", s) if {
	contains(s, "@")
	contains(s, ".")
}

screen("AWS access key", s) if {
	count(s) >= 20
	contains(s, "AKIA")
}

screen("AWS access key", s) if {
	count(s) >= 20
	contains(s, "ASIA")
}

screen("private key", s) if contains(s, "PRIVATE KEY-----")

# (?i)bearer: b, e, a and r have no case variants outside ASCII, so lower() finds every match.
screen("bearer token", s) if {
	count(s) >= 23
	contains(lower(s), "bearer")
}

screen("GitHub token", s) if {
	count(s) >= 40
	contains(s, "gh")
	contains(s, "_")
}

# NNN-NN-NNNN: some dash-separated part is exactly two digits, after a part ending in three
# digits and before one starting with four.
screen("US social security number", s) if {
	count(s) >= 11
	parts := split(s, "-")
	count(parts) >= 3
	some i in numbers.range(1, count(parts) - 2)
	count(parts[i]) == 2
	digits_only(parts[i])
	count(parts[i - 1]) >= 3
	digits_only(substring(parts[i - 1], count(parts[i - 1]) - 3, 3))
	count(parts[i + 1]) >= 4
	digits_only(substring(parts[i + 1], 0, 4))
}

# A card candidate is 13 digits at least with at most a space or dash between two: without
# spaces and dashes, and with every digit read as 0, the string holds 13 zeros in a row (so a
# timestamp such as 2026-11-21T10:00:00Z, 14 digits in short runs, does not pass).
card_screen(s) if {
	count(s) >= 13
	contains(strings.replace_n(card_folding, s), "0000000000000")
}

card_folding := {
	" ": "", "-": "",
	"1": "0", "2": "0", "3": "0", "4": "0", "5": "0", "6": "0", "7": "0", "8": "0", "9": "0",
}

# True for a non-empty string of ASCII digits.
digits_only(x) if {
	x != ""
	trim(x, "0123456789") == ""
}

# True for a value that is redacted as a whole (or empty).
redacted(s) if regex.match(redaction_marker, s)

redacted(s) if trim_space(s) == ""

# True when a parameter name marks its value as a secret.
sensitive(key) if {
	is_string(key)
	sensitive_screen(key)
	regex.match(sensitive_key, key)
}

# The screen of sensitive_key (see markers): 3 to 13 characters, starting with a, c, p or s and
# ending with d, n, t or y, and, without "_" and "-" and lower-cased, one of the names. Under
# (?i) only k and s have case variants outside ASCII (U+212A KELVIN SIGN, U+017F LONG S); they
# are mapped to k and s first, so every name the pattern matches passes.
sensitive_screen(key) if {
	contains("aAcCpPsS\u017f", substring(key, 0, 1))
	count(key) >= 3
	count(key) <= 13
	contains("dDnNtTyY", substring(key, count(key) - 1, 1))
	lower(strings.replace_n(name_folding, key)) in sensitive_names
}

name_folding := {"\u212a": "k", "\u017f": "s", "_": "", "-": ""}

sensitive_names := {
	"password", "passwd", "pwd", "secret", "clientsecret", "apikey", "apitoken", "accesstoken",
	"authtoken", "privatekey", "ssn",
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

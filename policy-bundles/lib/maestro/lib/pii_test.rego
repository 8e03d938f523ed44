package maestro.lib.pii_test

import data.maestro.lib.pii

test_email if pii.markers("write to ada.lovelace+ops@example.co.uk today") == {"email address"}

test_masked_email_is_not_an_email if pii.markers("j***@example.com") == set()

test_aws_key if pii.markers("AKIAIOSFODNN7EXAMPLE") == {"AWS access key"}

test_aws_key_needs_16_characters if pii.markers("AKIAIOSFODNN7") == set()

test_private_key if {
	pii.markers("-----BEGIN RSA PRIVATE KEY-----\nMIIE...") == {"private key"}
	pii.markers("-----BEGIN PRIVATE KEY-----") == {"private key"}
	pii.markers("-----BEGIN PUBLIC KEY-----") == set()
}

test_bearer_token if {
	pii.markers("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abcdef") == {"bearer token"}
	pii.markers("bearer short") == set()
}

test_github_token if pii.markers("ghp_0123456789abcdefghijABCDEFGHIJ012345") == {"GitHub token"}

test_ssn if pii.markers("ssn 078-05-1120") == {"US social security number"}

test_card_numbers_need_luhn if {
	pii.markers("card 4111 1111 1111 1111") == {"payment card number"}
	pii.markers("card 4111-1111-1111-1111") == {"payment card number"}
	pii.markers("5500005555555559") == {"payment card number"}
	pii.markers("order 4111111111111112") == set()
	pii.markers("1700000000000") == set()
}

test_luhn if {
	pii.luhn("79927398713")
	not pii.luhn("79927398710")
}

test_redaction_markers if {
	pii.markers("[REDACTED]") == set()
	pii.redacted("[REDACTED]")
	pii.redacted(" [REDACTED:email] ")
	pii.redacted("***")
	pii.redacted("")
	not pii.redacted("hunter2")
	not pii.redacted("[REDACTED] hunter2")
}

test_sensitive_keys if {
	pii.sensitive("password")
	pii.sensitive("API_KEY")
	pii.sensitive("client-secret")
	not pii.sensitive("secretRef")
	not pii.sensitive("token_budget")
	not pii.sensitive(3)
}

test_plain_text_is_clean if pii.markers("deploy api and web to staging on 2025-10-13") == set()

test_aws_session_key if pii.markers("ASIAIOSFODNN7EXAMPLE") == {"AWS access key"}

# The screens in front of the patterns never hide a match: case variants, the non-ASCII case
# variants of k and s, patterns inside longer text.
test_screens_keep_every_match if {
	pii.markers("BeArEr ABCDEFGHIJKLMNOPQRSTUVWX") == {"bearer token"}
	pii.markers("id 078-05-1120-99") == {"US social security number"}
	pii.markers("a@b.cc") == {"email address"}
	pii.sensitive("api_\u212aey")
	pii.sensitive("\u017f\u017fn")
	pii.sensitive("CLIENT-\u017fECRET")
	pii.sensitive("Private-Key")
}

test_screens_turn_away_ordinary_text if {
	not pii.may_hold_markers("2026-11-21")
	pii.may_hold_markers("a@b")
	pii.may_hold_markers("12345678901")
	not pii.screen("US social security number", "2026-11-21T10:00:00Z")
	not pii.screen("US social security number", "550e8400-e29b-41d4-a716-446655440000")
	not pii.card_screen("order 12-34")
	not pii.card_screen("2026-11-21T10:00:00.123Z")
	pii.card_screen("4111 1111-1111 1111")
	not pii.sensitive_screen("day")
	not pii.sensitive_screen("tables")
	not pii.sensitive_screen("password2")
	not pii.digits_only("")
}

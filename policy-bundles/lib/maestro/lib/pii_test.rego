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

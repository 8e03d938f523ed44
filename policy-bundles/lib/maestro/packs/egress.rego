# METADATA
# title: Egress allow-list
# description: >-
#   Outbound HTTP from http.request steps (action step_egress): the step's URL must use an
#   allowed scheme and name a host on the profile's allow-list (data.maestro.config.egress;
#   "*.example.com" allows subdomains). The host is read from the URL itself; a URL that does
#   not parse cleanly (user-info tricks, backslashes, odd characters) is denied, and so is a
#   step whose stated host differs from its URL's. internal allows loopback and a few
#   services over http or https; hosted-saas allows fewer hosts, https only.
# custom:
#   examples:
#     - name: GitHub API over https
#       input: {"action": "step_egress", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "tenant": {"id": "tnt_1", "residency": {"allowedRegions": ["EU"]}},
#               "request": {"environment": "prod", "region": "EU"},
#               "subject": {"kind": "step", "step": {"uses": "http.request", "url": "https://api.github.com/repos/x", "host": "api.github.com"}}}
#       allow: true
#     - name: a host off the list
#       input: {"action": "step_egress", "actor": {"sub": "ada", "roles": ["operator"], "tenant": "tnt_1"},
#               "subject": {"kind": "step", "step": {"uses": "http.request", "url": "https://exfil.example.net/upload"}}}
#       deny: true
#       reason_code: egress_denied
package maestro.packs.egress

import data.maestro.lib.helpers

step := input.subject.step

# The profile's allow-list: {"schemes": [...], "hosts": [...]}.
default allowed_schemes := []

allowed_schemes := helpers.strings(data.maestro.config.egress.schemes)

default allowed_hosts := []

allowed_hosts := helpers.strings(data.maestro.config.egress.hosts)

# scheme://[user-info@]host[:port][/path|?query|#fragment], with a plain host name or a
# bracketed IPv6 address. Anything else does not parse, and is denied.
url_pattern := `^([A-Za-z][A-Za-z0-9+.-]*)://(?:[^/?#@\\\s]*@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?:[/?#][^\s\\]*)?$`

parsed := {"scheme": lower(m[1]), "host": lower(m[2])} if {
	is_string(step.url)
	some m in regex.find_all_string_submatch_n(url_pattern, step.url, 1)
}

deny contains "egress_denied: the step names no URL (subject.step.url)" if {
	input.action == "step_egress"
	not url_named
}

deny contains "egress_denied: the step's URL does not parse as scheme://host[:port]/path, so its destination cannot be checked" if {
	input.action == "step_egress"
	helpers.present(step.url)
	not parsed
}

deny contains concat("", ["egress_denied: scheme ", parsed.scheme, " is not allowed (allowed: ", helpers.list_text(allowed_schemes), ")"]) if {
	input.action == "step_egress"
	not parsed.scheme in allowed_schemes
}

deny contains concat("", ["egress_denied: host ", parsed.host, " is not on the egress allow-list of this profile"]) if {
	input.action == "step_egress"
	not host_allowed(parsed.host)
}

deny contains concat("", ["egress_denied: the step says host ", step.host, " but its URL goes to ", parsed.host]) if {
	input.action == "step_egress"
	is_string(step.host)
	lower(step.host) != parsed.host
}

url_named if helpers.present(step.url)

# Exact host names, or "*.domain" for any subdomain of domain (not domain itself).
host_allowed(host) if host in allowed_hosts

host_allowed(host) if {
	some pattern in allowed_hosts
	startswith(pattern, "*.")
	endswith(host, trim_prefix(pattern, "*"))
}

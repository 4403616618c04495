"""Who may use each URL of the desk: ONE line per route, checked by test_authorization_matrix.py.

The test walks config/urls.py (and the websocket routes): a route that is not listed here FAILS,
so every new page, API endpoint or webhook must say who may use it. Add one line:

    "reports-sla": SUPERVISOR,                                  # the URL's name (namespace:name)
    "api-canned-response": {"GET": SIGNED_IN, "*": SUPERVISOR},  # per method; "*" = the others

Levels (what the test expects of anonymous / agent of team A / agent of team B / supervisor / admin):
    PUBLIC      everyone reaches it (the sign-in page, a public web form)
    SIGNED      only a provider's signature or the account's token opens it: every one of the
                five is refused, a desk session counts for nothing (webhooks; the valid
                signatures are proved in test_webhook_signatures.py)
    SIGNED_IN   any signed-in user; anonymous gets the login redirect (pages) or 401/403 (API)
    TEAM        a route about one object of team A: its agents, supervisors and admins; the
                other team's agent gets 404 (as for a missing object: nothing is revealed)
    SUPERVISOR  supervisors and admins; agents 403 (or 404)
    ADMIN       desk admins only
    STAFF       the Django admin site's gate: anyone but its staff (the desk's admins) is sent to the
                admin's sign-in; past the gate each ModelAdmin's own permissions apply (a read-only
                model's "add" page is a 403 even to staff), which this table does not restate
    NOBODY      answers no one (a route that exists for a library's sake), only refusals/404s

Keys are URL names (with their namespace); `namespace:*` covers every route of a namespace
(the Django admin site: each ModelAdmin adds a dozen). A route without a name is keyed by its
pattern. The object a URL parameter names comes from tests/security/world.py, by parameter name.
"""
PUBLIC, SIGNED, SIGNED_IN, TEAM, SUPERVISOR, ADMIN, STAFF, NOBODY = (
    "public", "signed", "signed-in", "team", "supervisor", "admin", "staff", "nobody")

ROUTES = {
    # --- the desk (pages and the fragments its client swaps in) ---
    "desk": SIGNED_IN,
    "desk-conversation": TEAM,
    "desk-list": SIGNED_IN,
    "desk-rows": SIGNED_IN,
    "desk-counts": SIGNED_IN,
    "desk-conversation-panes": TEAM,
    "desk-conversation-header": TEAM,
    "desk-messages": TEAM,
    "desk-timeline": TEAM,
    "login": PUBLIC,
    "logout": PUBLIC,
    # --- REST API ---
    "api-me": SIGNED_IN,
    "api-agents": SUPERVISOR,
    "api-conversations": SIGNED_IN,
    "api-conversations-bulk": SIGNED_IN,
    "api-conversation": TEAM,
    "api-conversation-claim": TEAM,
    "api-conversation-callback": TEAM,
    "api-conversation-read": TEAM,
    "api-conversation-messages": TEAM,
    "api-conversation-composer": TEAM,
    "api-conversation-suggestions": TEAM,
    "api-conversation-surveys": TEAM,
    "api-events": SIGNED_IN,
    "api-notifications": SIGNED_IN,
    "api-notifications-read": SIGNED_IN,
    "api-canned-responses": {"GET": SIGNED_IN, "*": SUPERVISOR},
    "api-canned-response": {"GET": SIGNED_IN, "*": SUPERVISOR},
    "api-canned-response-render": SIGNED_IN,
    "api-message-retry": TEAM,
    "api-message-hide": TEAM,
    "api-attachment-download": TEAM,
    "api-customers": SIGNED_IN,
    "api-customer": TEAM,
    "api-customer-timeline": TEAM,
    "api-customer-merge": TEAM,
    "api-customer-calls": TEAM,
    "api-merge-suggestions": SIGNED_IN,
    "api-merge-suggestion-dismiss": TEAM,
    "api-priority-rules": {"GET": SIGNED_IN, "*": SUPERVISOR},
    "api-priority-rule": {"GET": SIGNED_IN, "*": SUPERVISOR},
    "api-channel-accounts": ADMIN,
    "api-channel-account": ADMIN,
    "api-channel-account-rotate-token": ADMIN,
    # reports and the wallboard (supervisors and admins: IsSupervisorOrAdmin)
    "api-reports-wallboard": SUPERVISOR,
    "api-reports-topics": SUPERVISOR,
    "api-reports-csat-by-channel": SUPERVISOR,
    "api-reports-csat-by-team": SUPERVISOR,
    "api-reports-csat-by-agent": SUPERVISOR,
    "api-reports-volume": SUPERVISOR,
    "api-reports-heatmap": SUPERVISOR,
    "api-reports-first-response-by-channel": SUPERVISOR,
    "api-reports-first-response-by-team": SUPERVISOR,
    "api-reports-next-response-by-channel": SUPERVISOR,
    "api-reports-next-response-by-team": SUPERVISOR,
    "api-reports-resolution-by-channel": SUPERVISOR,
    "api-reports-resolution-by-team": SUPERVISOR,
    "api-reports-sla-trend": SUPERVISOR,
    "api-reports-sla-by-policy": SUPERVISOR,
    "api-reports-agents": SUPERVISOR,
    "api-reports-backlog": SUPERVISOR,
    "api-reports-deflection": SUPERVISOR,  # the help center's table, registered into the reports
    # the help center's articles: any desk user reads and writes drafts; the service refuses a publish
    # or a change to a published article by an agent (403), and deletes by anyone but supervisors/admins
    "api-help-articles": SIGNED_IN,
    "api-help-article": {"GET": SIGNED_IN, "PATCH": SIGNED_IN, "*": SUPERVISOR},
    "api-help-suggest": SIGNED,  # the push channel account's token, not a desk session
    # the team (admins: IsDeskAdmin)
    "api-users": ADMIN,
    "api-user": ADMIN,
    "api-user-deactivate": ADMIN,
    "api-user-reactivate": ADMIN,
    "api-user-password-reset": ADMIN,
    "api-teams": ADMIN,
    "api-team": ADMIN,
    "api-audit": ADMIN,
    "api-audit-export": ADMIN,
    # outgoing webhooks (admins)
    "api-webhooks": ADMIN,
    "api-webhook": ADMIN,
    "api-webhook-resume": ADMIN,
    "api-webhook-rotate-secret": ADMIN,
    "api-webhook-deliveries": ADMIN,
    "api-webhook-delivery-resend": ADMIN,
    # a customer: where the desk can write to her (visibility-filtered, 404 outside the team)
    "api-customer-outbound": TEAM,
    # her tags feed priority rules: supervisors and admins (who see every customer)
    "api-customer-tags": SUPERVISOR,
    # data protection (admins)
    "api-customer-export": ADMIN,
    "api-customer-erase": ADMIN,
    "api-data-protection": ADMIN,
    # SLA calendars and policies: everyone signed in reads them (the desk shows targets), supervisors write
    "api-sla-calendars": {"GET": SIGNED_IN, "*": SUPERVISOR},
    "api-sla-calendar": {"GET": SIGNED_IN, "*": SUPERVISOR},
    "api-sla-policies": {"GET": SIGNED_IN, "*": SUPERVISOR},
    "api-sla-policy": {"GET": SIGNED_IN, "*": SUPERVISOR},
    # channels: accounts, secrets, probes, health, dead letters, alerts (admins)
    "api-channel-kinds": ADMIN,
    "api-channel-account-rotate-secret": ADMIN,
    "api-channel-account-test": ADMIN,
    "api-channel-account-health": ADMIN,
    "api-channel-account-dead-letters": ADMIN,
    "api-channel-account-replay-all": ADMIN,
    "api-channel-account-audit": ADMIN,
    "api-dead-letter-replay": ADMIN,
    "api-dead-letter-discard": ADMIN,
    "api-channel-alerts": ADMIN,
    "api-schema": PUBLIC,
    "api-docs": PUBLIC,
    # --- the admins' channel console (apps/connectors/console.py: admin_only) ---
    "console-channels": ADMIN,
    "console-account-new": ADMIN,
    "console-account": ADMIN,
    "console-account-enable": ADMIN,
    "console-account-test": ADMIN,
    "console-account-rotate": ADMIN,
    "console-account-remove": ADMIN,
    "console-account-asterisk": ADMIN,
    "console-account-health": ADMIN,
    "console-replay": ADMIN,
    "console-discard": ADMIN,
    "console-webforms": ADMIN,
    "console-webform-new": ADMIN,
    "console-webform": ADMIN,
    # --- supervisors' pages: SLA, priority rules, reports, wallboard ---
    "sla-home": SUPERVISOR,
    "sla-calendar-new": SUPERVISOR,
    "sla-calendar": SUPERVISOR,
    "sla-policy-new": SUPERVISOR,
    "sla-policy": SUPERVISOR,
    "routing-rules": SUPERVISOR,
    "routing-rule-edit": SUPERVISOR,
    "reports": SUPERVISOR,
    "wallboard": SUPERVISOR,
    # --- accounts: one's own profile, the admin's team pages, the mailed password links ---
    "javascript-catalog": PUBLIC,  # the desk's translated JS strings (the sign-in page needs them too)
    "profile": SIGNED_IN,
    "team": ADMIN,
    "team-user": ADMIN,
    "team-user-deactivate": ADMIN,
    "team-user-reactivate": ADMIN,
    "team-user-password-reset": ADMIN,
    "team-teams": ADMIN,
    "team-rename": ADMIN,
    "team-delete": ADMIN,
    "password-set": PUBLIC,  # the token is the key: a bad link answers its own "invalid link" page
    "password-reset": PUBLIC,  # the same answer whether or not the address is known
    # --- the admin's console: audit log, outgoing webhooks, data protection ---
    "audit-log": ADMIN,
    "audit-export": ADMIN,
    "webhooks": ADMIN,
    "webhook": ADMIN,
    "webhook-resume": ADMIN,
    "webhook-rotate": ADMIN,
    "webhook-delete": ADMIN,
    "webhook-delivery-resend": ADMIN,
    "privacy": ADMIN,
    "privacy-customer": ADMIN,
    "privacy-export": ADMIN,
    # --- channels: webhooks and public pages (apps/connectors/*/channel.py) ---
    "api-inbound": SIGNED,
    "demo-mail": SIGNED,  # the demo simulator's signed mail; 404 outside make run's demo (apps/demo/views.py)
    "twitter-webhook": SIGNED,
    "facebook-webhook": SIGNED,
    "phone-twilio-status": SIGNED,
    "webform:form": PUBLIC,
    "webform:thanks": PUBLIC,
    # --- the public help center (apps/helpcenter/urls.py): published articles only, no login ---
    "helpcenter:root": PUBLIC,
    "helpcenter:embed": PUBLIC,
    "helpcenter:sitemap": PUBLIC,
    "robots-txt": PUBLIC,  # crawlers may read /help/ only (apps/helpcenter)
    "helpcenter:suggest": PUBLIC,  # rate-limited per client address
    "helpcenter:events": PUBLIC,  # anonymous deflection counters, rate-limited, bounded body
    "helpcenter:home": PUBLIC,
    "helpcenter:category": PUBLIC,
    "helpcenter:article": PUBLIC,
    # --- writing articles (/desk/help/): every desk user; the topics page: supervisors ---
    "help-articles": SIGNED_IN,
    "help-article-new": SIGNED_IN,
    "help-article-edit": SIGNED_IN,
    "help-topics": SUPERVISOR,
    # the customer's satisfaction rating page: the survey's random token is the only key (tests/csat)
    "csat:survey": PUBLIC,
    # --- the Django admin site ---
    "admin:*": STAFF,
    "admin:login": PUBLIC,
    "admin:logout": PUBLIC,
    "admin:view_on_site": NOBODY,  # contenttypes' redirect: no model of ours has get_absolute_url
}

# Websocket routes (apps/inbox/ws.py), by pattern.
WEBSOCKETS = {
    "ws/desk/": TEAM,  # signed-in; events and watch only for conversations the user may see
}

"""The admin's console in a real browser: an admin invites an agent, the agent chooses a
password from the mail the desk sent and signs in. The desk server sends real mail through
Django's file backend (tests/live_server.py desk_mails); screenshots go to artifacts/desk/."""
import re

from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.audit.models import AuditEntry
from tests.browser.conftest import login
from tests.browser.desk_fixtures import shoot
from tests.live_server import desk_mails

LINK = re.compile(r"(https?://\S+/password/set/\S+/)")


def test_an_admin_invites_an_agent_who_sets_a_password_from_the_mail_and_signs_in(browser, page, desk_url, make_user, team):
    admin = make_user(role=Role.ADMIN, username="ada", first_name="Ada")
    mails_before = len(desk_mails())
    # given the admin on the desk, who follows the Admin link to the team page
    login(page, admin, desk_url)
    page.goto(f"{desk_url}/")
    shoot(page, "desk-admin-link")
    page.locator("#admin-link").click()
    expect(page).to_have_url(f"{desk_url}/team/")
    # when she fills the invitation for an agent in a team
    page.get_by_label("Username").fill("bruno")
    page.get_by_label("Email").fill("bruno@tienda.example")
    page.get_by_label("First name").fill("Bruno")
    page.get_by_label("Role").select_option("agent")
    page.get_by_label(team.name).check()
    shoot(page, "team")
    page.get_by_role("button", name="Send invitation").click()
    # then the page says so and lists him as invited
    expect(page.locator(".flash")).to_contain_text("Invitation sent to bruno@tienda.example")
    expect(page.locator('tr[data-username="bruno"]')).to_contain_text("Invited")
    expect(page.locator('tr[data-username="bruno"]')).to_contain_text(team.name)

    # when Bruno opens the link in the mail he received, in his own browser (in Spanish)
    mails = desk_mails()[mails_before:]
    assert [m["To"] for m in mails] == ["bruno@tienda.example"]
    link = LINK.search(mails[0].get_content()).group(1)
    agent_context = browser.new_context(locale="es-ES")
    agent_page = agent_context.new_page()
    agent_page.goto(link)
    expect(agent_page.locator("main")).to_contain_text("bruno")
    agent_page.get_by_label("Nueva contraseña").fill("mi-clave-de-bruno-7")
    agent_page.get_by_label("Repítala").fill("mi-clave-de-bruno-7")
    agent_page.get_by_role("button", name="Guardar contraseña").click()
    # then he lands on the sign-in page, signs in with his password and sees the inbox
    expect(agent_page).to_have_url(re.compile(r"/login/$"))
    agent_page.get_by_label("Usuario").fill("bruno")
    agent_page.get_by_label("Contraseña").fill("mi-clave-de-bruno-7")
    agent_page.get_by_role("button", name="Iniciar sesión").click()
    expect(agent_page).to_have_url(f"{desk_url}/")
    expect(agent_page.locator(".who")).to_contain_text("Agente")
    # and as an agent he has no Admin link and the team page refuses him
    expect(agent_page.locator("#admin-link")).to_have_count(0)
    assert agent_page.goto(f"{desk_url}/team/").status == 403
    agent_context.close()

    # and the admin's audit log shows the invitation and his first sign-in
    page.goto(f"{desk_url}/audit/")
    expect(page.locator('tr[data-action="user.invited"]')).to_contain_text("bruno")
    expect(page.locator('tr[data-action="auth.login"]').first).to_contain_text("bruno")
    shoot(page, "audit-log")
    assert User.objects.get(username="bruno").has_usable_password()
    assert AuditEntry.objects.filter(action="user.password_set", actor__username="bruno").exists()


def test_an_admin_subscribes_a_webhook_and_sees_its_secret_once(page, desk_url, make_user):
    admin = make_user(role=Role.ADMIN, username="ada")
    login(page, admin, desk_url)
    page.goto(f"{desk_url}/integrations/webhooks/")
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_label("URL").fill("https://crm.tienda.example/hooks/centralita")
    page.get_by_label("Conversation created").check()
    page.get_by_label("Message created").check()
    page.get_by_role("button", name="Create webhook").click()
    expect(page.locator("#signing-secret")).to_be_visible()
    secret = page.locator("#signing-secret").inner_text().strip()
    assert len(secret) > 30
    shoot(page, "webhook")
    page.reload()
    expect(page.locator("#signing-secret")).to_have_count(0)
    assert secret not in page.content()
    page.goto(f"{desk_url}/integrations/webhooks/")
    expect(page.locator('tr[data-webhook="CRM sync"]')).to_contain_text("Active")
    shoot(page, "webhooks")


def test_an_admin_finds_a_customer_and_erases_them_after_confirming(page, desk_url, make_user, make_account, inbound):
    from apps.crm.models import Customer
    from apps.inbox.models import Message
    from apps.inbox.services.ingest import messages_ingest
    from tests.browser.conftest import off_loop

    admin = make_user(role=Role.ADMIN, username="ada")
    account = make_account()
    off_loop(messages_ingest, messages=[inbound(account, email="olvido@example.com", name="Olga Olvido", text="Borrad mis datos, por favor")])
    customer = Customer.objects.get(display_name="Olga Olvido")
    login(page, admin, desk_url)
    page.goto(f"{desk_url}/privacy/")
    page.get_by_label("Name, email, phone, handle or customer number").fill("olvido@example.com")
    page.get_by_role("button", name="Search").click()
    page.locator("#found a", has_text="Olga Olvido").click()
    expect(page.locator("#summary")).to_contain_text("Messages")
    shoot(page, "privacy-customer")
    page.get_by_label(re.compile("Type the customer's number")).fill(str(customer.pk))
    page.get_by_role("button", name="Erase for good").click()
    expect(page.locator(".flash")).to_contain_text(f"Customer #{customer.pk} erased")
    expect(page.locator("h1")).to_contain_text("Erased")
    assert Message.objects.get(customer=customer).text == ""
    page.goto(f"{desk_url}/privacy/")
    shoot(page, "privacy")


def test_no_console_page_breaks_the_content_security_policy(page, desk_url, make_user, make_account, inbound, team):
    from apps.crm.models import Customer
    from apps.inbox.services.ingest import messages_ingest
    from apps.integrations.services import webhook_endpoint_create
    from tests.browser.conftest import off_loop
    from tests.browser.test_csp import Violations

    violations = Violations(page)
    admin = make_user(role=Role.ADMIN, username="ada")
    agent = make_user(username="bea", teams=[team])
    endpoint, _ = webhook_endpoint_create(actor=admin, name="CRM", url="https://crm.example/hook", event_types=["message.created"])
    off_loop(messages_ingest, messages=[inbound(make_account(), email="csp@example.com", name="Carmen")])
    customer = Customer.objects.get(display_name="Carmen")
    page.goto(f"{desk_url}/password/reset/")
    page.goto(f"{desk_url}/password/set/MQ/bad-token/")
    expect(page.locator("main")).to_contain_text("This link no longer works")
    login(page, admin, desk_url)
    for path in ("/team/", f"/team/users/{agent.pk}/", "/team/teams/", "/audit/", "/integrations/webhooks/",
                 f"/integrations/webhooks/{endpoint.pk}/", "/privacy/?q=Carmen", f"/privacy/customers/{customer.pk}/"):
        response = page.goto(f"{desk_url}{path}")
        assert response.status == 200, path
        expect(page.locator("main.console")).to_be_visible()
    assert violations.seen() == []

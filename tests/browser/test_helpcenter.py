"""The help center in a real browser (Debian chromium): the web form suggests articles as the
customer types the subject, she opens one and leaves (deflected) or sends the form anyway; the
deflection rate counts both. Also: the public pages and the editor carry no hostile markup."""
import pytest
from playwright.sync_api import expect

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.connectors.webform.models import WebForm, WebFormField
from apps.helpcenter import services
from apps.helpcenter.models import Article, DeflectionEvent
from apps.helpcenter.report import deflection_by_day
from apps.reports.selectors import report_filters
from tests.browser.conftest import login
from tests.security.xss_corpus import corpus


@pytest.fixture
def articles(make_user):
    supervisor = make_user(Role.SUPERVISOR)
    es = services.article_create(author=supervisor, language="es", title="Devoluciones y reembolsos", status=Article.Status.PUBLISHED,
                                 body="<p>Tienes 30 días para devolver un pedido. El reembolso llega en 14 días.</p>")
    en = services.article_create(author=supervisor, language="en", title="Returns and refunds", status=Article.Status.PUBLISHED,
                                 body="<p>You have 30 days to return an order. The refund arrives within 14 days.</p>", translation_of=es)
    return {"es": es, "en": en, "supervisor": supervisor}


@pytest.fixture
def contact_form(make_account, team):
    account = make_account(kind=ChannelKind.WEBFORM, name="Web forms", team=team)
    form = WebForm.objects.create(slug="contact", title="Contact us", channel_account=account)
    for order, (name, label, kind, required) in enumerate([("email", "Email", "email", True), ("subject", "Subject", "text", True),
                                                            ("message", "Message", "textarea", True)]):
        WebFormField.objects.create(form=form, name=name, label=label, type=kind, required=required, order=order)
    return form


def _type_subject(page, text):
    page.get_by_label("Subject").press_sequentially(text, delay=20)


def test_a_customer_sees_an_article_while_typing_opens_it_and_the_deflection_is_counted(page, desk_url, articles, contact_form):
    # given the public contact form
    page.goto(f"{desk_url}/f/contact/")
    # when the customer types her subject
    _type_subject(page, "How do I get a refund?")
    # then the matching article is suggested under the subject (English first: her browser's language)
    box = page.locator("#help-suggestions")
    expect(box).to_be_visible()
    link = box.get_by_role("link", name="Returns and refunds")
    expect(link).to_be_visible()
    expect(box.get_by_role("link")).to_have_count(1)  # one version of the article
    assert DeflectionEvent.objects.filter(kind="shown", article=articles["en"]).count() == 1
    # when she opens it (a new tab: her half-written form stays)
    with page.context.expect_page() as opened, page.expect_response(lambda r: "/help/events/" in r.url) as beacon:
        link.click()
    assert beacon.value.status == 204
    article_tab = opened.value
    expect(article_tab.get_by_role("heading", name="Returns and refunds")).to_be_visible()
    expect(article_tab.locator("#translation-link")).to_have_text("Leer en español")
    # and leaves without sending the form: the visit is deflected
    visit = DeflectionEvent.objects.get(kind="opened").visit
    assert set(DeflectionEvent.objects.filter(visit=visit).values_list("kind", flat=True)) == {"shown", "opened"}
    rows = deflection_by_day(report_filters(user=articles["supervisor"], params={}))
    assert [(r["visits"], r["opened"], r["sent"], r["deflected"], r["deflection_pct"]) for r in rows] == [(1, 1, 0, 1, 100.0)]

    # when another visitor sees the suggestion but sends the form anyway
    other = page.context.browser.new_context(locale="es-ES")
    form_page = other.new_page()
    form_page.goto(f"{desk_url}/f/contact/")
    form_page.get_by_label("Subject").press_sequentially("reembolso de mi pedido", delay=20)
    expect(form_page.locator("#help-suggestions").get_by_role("link", name="Devoluciones y reembolsos")).to_be_visible()
    form_page.get_by_label("Email").fill("ana@example.com")
    form_page.get_by_label("Message").fill("Quiero el reembolso del pedido 5512")
    with form_page.expect_response(lambda r: "/help/events/" in r.url) as sent:
        form_page.get_by_role("button").click()
    assert sent.value.status == 204
    other.close()
    # then the report of the day: two visits with suggestions, one sent the form: 50 % deflected
    rows = deflection_by_day(report_filters(user=articles["supervisor"], params={}))
    assert [(r["visits"], r["opened"], r["sent"], r["deflected"], r["deflection_pct"]) for r in rows] == [(2, 1, 1, 1, 50.0)]
    # and the supervisor's reports page shows it
    login(page, articles["supervisor"], desk_url)
    page.goto(f"{desk_url}/reports/")
    table = page.locator("#report-deflection")
    expect(table).to_contain_text("50.0")


def test_hostile_titles_and_bodies_never_run_on_the_public_pages_or_in_the_editor(page, desk_url, make_user):
    supervisor = make_user(Role.SUPERVISOR)
    calls = []
    page.expose_function("__xss", lambda n: calls.append(n))
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    made = []
    for n, text in list(corpus().items()):
        made.append(services.article_create(author=supervisor, language="en", title=f"T{n} {text}"[:200], body=f"<p>{text}</p>{text}",
                                            slug=f"x{n}", status=Article.Status.PUBLISHED))
    login(page, supervisor, desk_url)
    urls = ["/help/en/", "/help/en/?q=xss", "/desk/help/"] + [a.get_absolute_url() for a in made[:12]] + \
           [f"/desk/help/{a.id}/" for a in made[:6]]
    for url in urls:
        page.goto(desk_url + url)
        assert page.locator("[data-xss]").count() == 0, url
    assert calls == [] and violations == []


@pytest.mark.browser_locale("es-ES")
def test_the_editor_writes_formatted_text_that_is_saved_clean(page, desk_url, make_user, team):
    agent = make_user(Role.AGENT, teams=[team])
    login(page, agent, desk_url)
    page.goto(f"{desk_url}/desk/help/new/")
    page.get_by_role("textbox", name="Título", exact=True).fill("Cómo pagar con Bizum")
    editor = page.locator("#editor-content")
    editor.click()
    page.get_by_role("button", name="Negrita").click()
    page.keyboard.type("Bizum")
    page.get_by_role("button", name="Negrita").click()
    page.keyboard.type(" está disponible.")
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.get_by_text("Artículo guardado.")).to_be_visible()
    article = Article.objects.get(title="Cómo pagar con Bizum")
    assert article.status == "draft" and "<b>Bizum</b>" in article.body and "está disponible." in article.body
    assert page.get_by_role("button", name="Publicar").count() == 0  # agents do not publish

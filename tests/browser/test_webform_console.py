"""An admin defines a web form in the console (in Spanish), and a visitor fills it in: chromium on the
live server. Screenshots: artifacts/desk/console-webform-{es,en}.png and console-webforms-{es,en}.png."""
import pytest
from playwright.sync_api import expect

from apps.accounts.models import Role, User
from apps.connectors.webform.models import WebForm
from tests.browser.conftest import login
from tests.browser.desk_fixtures import SHOTS, shoot
from tests.connectors.webform.conftest import webform_account  # noqa: F401  (fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.mark.parametrize("language, save, saved", [("es", "Guardar", "guardado"), ("en", "Save", "saved")])
def test_an_admin_defines_a_form_and_a_visitor_sees_its_fields(page, desk_url, make_user, webform_account,  # noqa: F811
                                                               language, save, saved):
    admin = make_user(role=Role.ADMIN, username=f"marta-{language}")
    User.objects.filter(pk=admin.pk).update(language=language)
    login(page, admin, desk_url)
    # when Marta creates a form with an email field and a choice field from the console
    page.goto(f"{desk_url}/console/forms/")
    page.locator(".console-nav a[href='/console/forms/']").wait_for()
    page.locator("a.btn.primary[href='/console/forms/new/']").click()
    # a new form's visitor-facing texts start in her language
    expect(page.locator("input[name='submit_label']")).to_have_value({"es": "Enviar", "en": "Send"}[language])
    page.fill("input[name='title']", "Devoluciones")
    page.fill("input[name='slug']", f"devoluciones-{language}")
    page.select_option("select[name='channel_account']", str(webform_account.id))
    page.fill("input[name='fields-0-name']", "email")
    page.fill("input[name='fields-0-label']", "Correo")
    page.select_option("select[name='fields-0-type']", "email")
    page.check("input[name='fields-0-required']")
    page.fill("input[name='fields-1-order']", "1")
    page.fill("input[name='fields-1-name']", "motivo")
    page.fill("input[name='fields-1-label']", "Motivo")
    page.select_option("select[name='fields-1-type']", "select")
    page.fill("textarea[name='fields-1-choices']", "Llegó roto\nTalla equivocada")
    page.get_by_role("button", name=save).click()
    # then the console says so, in her language, and shows the embed snippet
    expect(page.locator(".flash")).to_contain_text(saved)
    expect(page.locator("#embed-snippet")).to_contain_text("data-centralita-form")
    page.screenshot(path=str(SHOTS / f"console-webform-{language}.png"), full_page=True)
    webform = WebForm.objects.get(slug=f"devoluciones-{language}")
    assert [f.name for f in webform.fields.all()] == ["email", "motivo"]
    page.goto(f"{desk_url}/console/forms/")
    expect(page.locator(f"tr[data-webform='devoluciones-{language}']")).to_be_visible()
    shoot(page, f"console-webforms-{language}")
    # and a visitor's public page has the fields she defined
    page.goto(f"{desk_url}/f/devoluciones-{language}/")
    expect(page.locator("select[name='motivo'] option", has_text="Talla equivocada")).to_have_count(1)
    expect(page.locator("input[name='email'][type='email']")).to_be_visible()

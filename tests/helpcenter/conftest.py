import pytest

from apps.accounts.models import Role
from apps.helpcenter import services
from apps.helpcenter.models import Article, Category
from tests.conftest import public_rate_limits_clear


@pytest.fixture(autouse=True)
def fresh_help_rate_limits():
    public_rate_limits_clear()


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.SUPERVISOR)


@pytest.fixture
def agent(make_user, team):
    return make_user(Role.AGENT, teams=[team])


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def category(db):
    return Category.objects.create(slug="devoluciones", name_en="Returns", name_es="Devoluciones")


@pytest.fixture
def publish(supervisor):
    """Write a published article (and its translation with translation_of=...) as a supervisor."""
    def make(language, title, body, **kwargs):
        kwargs.setdefault("status", Article.Status.PUBLISHED)
        return services.article_create(author=supervisor, language=language, title=title, body=body, **kwargs)

    return make


@pytest.fixture
def shop(publish, category):
    """The shop's help center: returns (es + en, linked), password (es + en), shipping (en), a draft."""
    returns_es = publish("es", "Devoluciones y reembolsos", "<p>Puedes devolver tu pedido en 30 días. El reembolso llega en 14 días.</p>",
                         category=category)
    returns_en = publish("en", "Returns and refunds", "<p>You can return your order within 30 days; the refund takes 14 days.</p>",
                         category=category, translation_of=returns_es)
    password_es = publish("es", "Restablecer la contraseña", "<p>Pulsa ¿Has olvidado tu contraseña? en la página de acceso.</p>")
    password_en = publish("en", "Reset your password", "<p>Click Forgot your password? on the sign-in page.</p>", translation_of=password_es)
    shipping_en = publish("en", "Shipping times", "<p>Orders ship within 24 hours; delivery takes 2 to 4 working days.</p>")
    draft = publish("es", "Cupones secretos", "<p>Borrador: cupones de descuento internos.</p>", status=Article.Status.DRAFT)
    return {"returns_es": returns_es, "returns_en": returns_en, "password_es": password_es, "password_en": password_en,
            "shipping_en": shipping_en, "draft": draft}

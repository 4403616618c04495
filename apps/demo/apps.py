import os

from django.apps import AppConfig

# Set by run_desk for the processes of the demo only (docs/demo.md): where the stand-ins of the
# Graph API and the X API listen, and the secret the simulator signs the customer's mail with
# (apps/demo/views.py). Unset everywhere else, and then nothing here does anything.
GRAPH_URL_ENV, X_URL_ENV = "CENTRALITA_DEMO_GRAPH_URL", "CENTRALITA_DEMO_X_URL"
MAIL_SECRET_ENV = "CENTRALITA_DEMO_MAIL_SECRET"


class DemoConfig(AppConfig):
    """The demo's seed and simulated customers, and the process supervisor `run_desk`: on top of every app."""

    name = "apps.demo"
    label = "demo"

    def ready(self):
        # Imported here, once every app is loaded, and only in the demo's processes.
        graph_url, x_url = os.environ.get(GRAPH_URL_ENV), os.environ.get(X_URL_ENV)
        if graph_url:
            import facebook  # noqa: PLC0415

            facebook.FACEBOOK_GRAPH_URL = graph_url  # facebook-sdk reads it at call time
        if x_url:
            from apps.connectors.twitter import client  # noqa: PLC0415

            from .standins.x import LoopbackAdapter  # noqa: PLC0415

            # tweepy's host is fixed: the transport sends it to the stand-in, as the tests do.
            client.SESSION_HOOKS.append(lambda session: session.mount(client.API_HOST, LoopbackAdapter(x_url)))

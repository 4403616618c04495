"""Templates other apps add to the public form pages (e.g. the help center's article suggestions).

An app registers a template name from its AppConfig.ready(); the form and thanks pages include each
one with their context (webform, embed, and page = "form" or "thanks"). The web form imports
nothing of those apps: the dependency points from them to here.
"""
PAGE_INCLUDES: list[str] = []


def page_include_register(template_name: str) -> None:
    if template_name not in PAGE_INCLUDES:
        PAGE_INCLUDES.append(template_name)

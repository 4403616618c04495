"""The customer's rating page: public (no login), the survey's token in the URL, in the survey's
language (Spanish or English: the conversation's, whatever the browser says). Thin: the answer is
services.survey_answer. No script or inline style (the CSP); plain HTML radio buttons."""
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from . import services

STATE_STATUS = {"unknown": 400, "expired": 410, "answered": 200, "open": 200}
ERROR_STATUS = {"unknown": 400, "expired": 410, "answered": 409, "invalid": 400}


@never_cache
@require_http_methods(["GET", "POST"])
def survey_page(request, token: str):
    survey = services.survey_for_token(token=token)
    language = survey.language if survey is not None else translation.get_language()
    with translation.override(language):
        if request.method == "POST":
            return _answer(request, token, survey)
        state = services.survey_state(survey)
        selected = request.GET.get("score", "")
        return _render(request, survey, state, status=STATE_STATUS[state],
                       selected=selected if selected in {"1", "2", "3", "4", "5"} else "")


def _answer(request, token, survey):
    try:
        answered = services.survey_answer(token=token, score=request.POST.get("score"), comment=request.POST.get("comment", ""))
    except services.SurveyError as exc:
        if exc.code == "invalid":
            return _render(request, survey, "open", status=400, error=exc.message,
                           selected=request.POST.get("score", ""), comment=request.POST.get("comment", ""))
        state = exc.code
        return _render(request, survey, state, status=ERROR_STATUS[state], again=state == "answered")
    return _render(request, answered, "thanks", status=200)


def _render(request, survey, state, *, status, **context):
    template = {"open": "csat/survey.html", "thanks": "csat/thanks.html"}.get(state, "csat/closed.html")
    return render(request, template, {"survey": survey, "state": state, "scores": [1, 2, 3, 4, 5],
                                      "LANGUAGE_CODE": translation.get_language(), **context}, status=status)

"""The signed-in user's own profile page: language and time zone (docs/languages.md)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from .forms import ProfileForm
from .services import user_locale_update


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = user_locale_update(
            user=request.user, language=form.cleaned_data["language"], time_zone=form.cleaned_data["time_zone"]
        )
        # The confirmation is already in the language just chosen.
        translation.activate(user.language or translation.get_language_from_request(request))
        messages.success(request, _("Your language and time zone are saved."))
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})

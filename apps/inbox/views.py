"""Server-rendered pages of the desk. Data comes from the REST API; live updates from /ws/desk/."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie


@login_required
@ensure_csrf_cookie  # desk.js sends the cookie's token with its POST/PATCH calls
def desk(request):
    user = request.user
    return render(
        request,
        "desk/desk.html",
        {
            "desk_user": {
                "id": user.id,
                "username": user.username,
                "name": user.get_full_name() or user.username,
                "role": user.role,
                "teams": list(user.teams.values_list("name", flat=True)),
            }
        },
    )

"""Role checks for the API. Object visibility (what an agent may see) lives in
apps/inbox/visibility.py and is applied by the selectors, which answer 404."""
from rest_framework.permissions import BasePermission


class IsDeskAdmin(BasePermission):
    """Channel accounts, secrets and tokens: admins only (agents and supervisors get 403)."""

    message = "Only desk admins may do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_desk_admin)


class IsSupervisorOrAdmin(BasePermission):
    message = "Only supervisors and admins may do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.sees_everything)


def desk_admin_required(view):
    """Pages for admins: anonymous users go to sign in, agents and supervisors get 403."""
    import functools

    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_active and user.is_desk_admin):
            raise PermissionDenied("Only desk admins may do this.")
        return view(request, *args, **kwargs)

    return wrapped

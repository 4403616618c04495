from django.urls import path

from . import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("team/", views.team, name="team"),
    path("team/users/<int:user_id>/", views.team_user, name="team-user"),
    path("team/users/<int:user_id>/deactivate/", views.team_user_deactivate, name="team-user-deactivate"),
    path("team/users/<int:user_id>/reactivate/", views.team_user_reactivate, name="team-user-reactivate"),
    path("team/users/<int:user_id>/password-reset/", views.team_user_password_reset, name="team-user-password-reset"),
    path("team/teams/", views.team_teams, name="team-teams"),
    path("team/teams/<int:team_id>/rename/", views.team_rename, name="team-rename"),
    path("team/teams/<int:team_id>/delete/", views.team_delete, name="team-delete"),
    path("password/set/<str:uidb64>/<str:token>/", views.password_set, name="password-set"),
    path("password/reset/", views.password_reset, name="password-reset"),
]

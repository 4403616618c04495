from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.desk, name="desk"),
    path("c/<int:conversation_id>/", views.desk, name="desk-conversation"),
    # Fragments the desk's client swaps in (same templates as the first render).
    path("desk/list/", views.desk_list, name="desk-list"),
    path("desk/rows/", views.desk_rows, name="desk-rows"),
    path("desk/counts/", views.desk_counts, name="desk-counts"),
    path("desk/conversations/<int:conversation_id>/", views.desk_conversation, name="desk-conversation-panes"),
    path("desk/conversations/<int:conversation_id>/header/", views.desk_header, name="desk-conversation-header"),
    path("desk/conversations/<int:conversation_id>/messages/", views.desk_messages, name="desk-messages"),
    path("desk/customers/<int:customer_id>/timeline/", views.desk_timeline, name="desk-timeline"),
    path("login/", auth_views.LoginView.as_view(template_name="desk/login.html", redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]

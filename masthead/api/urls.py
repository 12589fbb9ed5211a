from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("token", views.token, name="token"),
    path("sign-in-link", views.sign_in_link, name="sign-in-link"),
    # str, not int: any id, even "abc" or a number too big for the database, gets the
    # API's JSON 404 rather than falling through to the site's HTML pages.
    path("articles/<str:article_id>", views.article, name="article"),
    path("openapi.yaml", views.openapi, name="openapi"),
]

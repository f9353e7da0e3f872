"""URLs of the example project."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from django_app import views

router = SimpleRouter(trailing_slash=False)
router.register("api/articles", views.ArticleViewSet, basename="article")

urlpatterns = [
    path("health", views.health),
    path("articles", views.articles),
    path("articles/<str:article_id>", views.ArticleView.as_view()),
    path("async/articles", views.async_articles),
    path("me", views.me),
    path("", include(router.urls)),
]

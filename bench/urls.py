"""The product's URLs plus the floor view, served only by the gunicorn of `python -m bench run`."""

from django.urls import path

from bench.floor import floor_view
from iam_portal.urls import urlpatterns as product_urlpatterns

urlpatterns = [path("bench/floor/", floor_view, name="bench_floor"), *product_urlpatterns]

from django.urls import path
from rest_framework.routers import DefaultRouter

from scheduling.api import AccountSlotsView, ScheduleViewSet

router = DefaultRouter()
router.register("schedules", ScheduleViewSet, basename="schedule")

urlpatterns = [
    path("accounts/<int:account_id>/slots/", AccountSlotsView.as_view(), name="account-slots"),
    *router.urls,
]

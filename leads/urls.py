from django.urls import path

from .views import pool, queue, routing

app_name = "leads"

urlpatterns = [
    # Marketing: the nurture pool (issue: intake)
    path("pool/", pool.pool, name="pool"),
    # Sales: queue and dashboards (issue: routing and the queue)
    path("queue/", queue.my_queue, name="my_queue"),
    path("team/", routing.team_dashboard, name="team_dashboard"),
]

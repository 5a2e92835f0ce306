import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadhandoff.settings.local")

app = Celery("leadhandoff")
# Settings prefixed CELERY_ configure the app; the beat schedule lives in settings.base.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

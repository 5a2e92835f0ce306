# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=leadhandoff.settings.production

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings but no database or secrets of value.
RUN DJANGO_SECRET_KEY=build-only-$(python -c "import secrets; print(secrets.token_urlsafe(50))") \
    DATABASE_URL=postgres://build@127.0.0.1:1/unused REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --no-input \
 && useradd --create-home --uid 1000 app && mkdir -p /app/media && chown app /app/media
USER app

EXPOSE 8000
CMD ["gunicorn", "leadhandoff.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]

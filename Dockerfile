# Production image of C360 Steward: the runtime lock only (requirements.lock: no test, lint or
# typing tools, which are in requirements-dev.lock), static files collected, gunicorn on port
# 8000, not run as root. The same image runs the Celery worker and beat. README, "Production
# layout", lists the environment; SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL at least.
#
#   docker build -t c360-steward .
#   docker run --rm --env-file c360.env c360-steward python manage.py migrate --noinput
#   docker run -d -p 8000:8000 --env-file c360.env c360-steward
#   docker run -d --env-file c360.env c360-steward celery -A c360 worker --loglevel=INFO
#   docker run -d --env-file c360.env c360-steward celery -A c360 beat --loglevel=INFO  # one only

FROM python:3.11-slim AS build
# affinegap (a dedupe dependency) has no wheel for Python 3.11: it is compiled here, and the
# compiler stays out of the final image.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --require-hashes \
       -r /tmp/requirements.lock

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=c360.settings.production \
    C360_VAR_DIR=/var/lib/c360 \
    STATIC_ROOT=/app/staticfiles \
    WEB_CONCURRENCY=4
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . .
# collectstatic needs production settings to load; a throw-away key and host serve for that alone.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(60))')" ALLOWED_HOSTS=build \
       python manage.py collectstatic --noinput -v0 \
    && useradd --system --no-create-home c360 \
    && mkdir -p /var/lib/c360 && chown -R c360 /var/lib/c360
USER c360
VOLUME /var/lib/c360
EXPOSE 8000
# gunicorn takes its number of workers from WEB_CONCURRENCY.
CMD ["gunicorn", "c360.wsgi", "--bind", "0.0.0.0:8000"]

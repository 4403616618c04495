# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected at build time; WhiteNoise serves them from the web process.
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --system --home /app centralita \
    && mkdir -p /app/var/media \
    && chown -R centralita /app/var

USER centralita
EXPOSE 8000
# X-Forwarded-For/-Proto are believed only from the proxies in FORWARDED_ALLOW_IPS (uvicorn reads it);
# unset, from nobody (--no-proxy-headers): REMOTE_ADDR is the socket's peer (docs/deployment.md: Security).
CMD ["sh", "-c", "exec uvicorn config.asgi:application --host 0.0.0.0 --port 8000 --workers 2 $(if [ -n \"$FORWARDED_ALLOW_IPS\" ]; then echo --proxy-headers; else echo --no-proxy-headers; fi)"]

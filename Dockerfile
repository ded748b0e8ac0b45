FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.prod
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk postgresql-client \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r requirements/base.txt
COPY . .
RUN SECRET_KEY=build JWT_SIGNING_KEY=build FIELD_ENCRYPTION_KEY=build DJANGO_SETTINGS_MODULE=config.settings.dev \
    python manage.py collectstatic --noinput
RUN useradd --create-home zhiquan && mkdir -p /app/var && chown -R zhiquan /app/var
USER zhiquan
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]

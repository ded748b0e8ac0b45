FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.prod
RUN apt-get update && apt-get install -y --no-install-recommends fonts-noto-cjk postgresql-client ffmpeg \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml uv.lock ./
# The runtime dependencies exactly as uv.lock pins them (hashes checked), without the dev group.
RUN pip install --no-cache-dir uv==0.13.9 \
    && uv export --frozen --no-dev --no-emit-project --format requirements-txt -o /tmp/runtime.txt \
    && pip install --no-cache-dir --require-hashes -r /tmp/runtime.txt \
    && pip uninstall -y uv && rm /tmp/runtime.txt
COPY . .
# Collected under the production settings, so the hashed-name manifest that production's static storage
# reads exists (collected under dev there is none and every page fails). The values below only let the
# settings load at build time: collectstatic reaches no database, broker or WeChat, and the real ones
# come from .env at run time.
RUN DJANGO_SETTINGS_MODULE=config.settings.prod SECRET_KEY=build-only JWT_SIGNING_KEY=build-only \
    FIELD_ENCRYPTION_KEY=build-only ALLOWED_HOSTS=localhost SITE_URL=https://localhost \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 \
    WECHATPAY_MCHID=build WECHATPAY_APIV3_KEY=build WECHATPAY_PRIVATE_KEY_PATH=/dev/null \
    WECHATPAY_CERT_SERIAL_NO=build WECHATPAY_PUBLIC_KEY_PATH=/dev/null WECHATPAY_PUBLIC_KEY_ID=build \
    WECHAT_MINIPROGRAM_APPID=build WECHAT_MINIPROGRAM_SECRET=build \
    python manage.py collectstatic --noinput
# var/media exists in the image so the compose `media` volume starts owned by the app user (a volume
# mounted on a missing path is created owned by root, and uploads would fail).
RUN useradd --create-home zhiquan && mkdir -p /app/var/media && chown -R zhiquan /app/var
USER zhiquan
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]

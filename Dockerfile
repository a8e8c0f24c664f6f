# Kairos image: one image for web, worker and beat (the command differs).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KAIROS_DATA_DIR=/var/lib/kairos

RUN useradd --system --create-home --home-dir /app kairos \
    && mkdir -p /var/lib/kairos && chown kairos /var/lib/kairos
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=kairos . .
USER kairos
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind=0.0.0.0:8000", "--workers=3", "--access-logfile=-"]

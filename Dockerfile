# Kairos image: one image for web, worker and beat (the command differs).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KAIROS_DATA_DIR=/var/lib/kairos

# The metrics folder exists in the image so that a named volume mounted on it starts
# out owned by kairos (docker-compose.yml).
RUN useradd --system --create-home --home-dir /app kairos \
    && mkdir -p /var/lib/kairos/metrics && chown -R kairos /var/lib/kairos
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY --chown=kairos . .
USER kairos
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput --verbosity 0

# The commit /info reports (an image carries no .git): docker compose build passes
# KAIROS_COMMIT from the environment, e.g. KAIROS_COMMIT=$(git rev-parse HEAD).
ARG KAIROS_COMMIT=""
ENV KAIROS_COMMIT=$KAIROS_COMMIT

EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind=0.0.0.0:8000", "--workers=3", "--access-logfile=-"]

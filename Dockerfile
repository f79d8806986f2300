# billops image: the locked environment plus the project (used by docker-compose.yml).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH BILLOPS_HOME=/data AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/app/dags AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False DO_NOT_TRACK=1
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md LICENSE ./
COPY billops billops
COPY process_mining process_mining
COPY expectations expectations
COPY dashboards dashboards
# Bytecode compiled once here: PYTHONDONTWRITEBYTECODE would otherwise make every process
# (each dbt invocation imports ~4 s of modules) compile its imports from source again.
RUN uv sync --frozen --no-dev --compile-bytecode
COPY dags dags
COPY dbt_project dbt_project
RUN python -c "from billops.transform import parse_manifest; parse_manifest()"
EXPOSE 8080 8501 8502

-- Airflow keeps its metadata in its own database beside the operational store.
CREATE DATABASE airflow OWNER billops;

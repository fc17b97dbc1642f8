"""Scripts the DAG tests run in a subprocess, so Airflow's config and logging stay out of pytest."""

"""One run lifecycle for every front end (the profiler CLI, the standalone pipelines, the DAG).

``open_run`` → ``claim_store`` + ``run_job`` per store → ``close_run``, with one rule from
job results to ``overall_status`` / ``summary_text`` (:mod:`orders_sync.runs.summary`).
"""

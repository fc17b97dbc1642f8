"""One run lifecycle for every front end (the profiler CLI, the standalone pipelines, the DAG).

- :mod:`.lifecycle`: ``open_run`` / ``process_run`` and ``close_run``;
- :mod:`.liveness`: which runs are alive; closing abandoned ones;
- :mod:`.claims`: a store made one run's (``claim_store``);
- :mod:`.steps`: a job's windows in order, a window per step (``job_steps``, ``run_job``);
- :mod:`.stopping`: one stop path (signals, deadlines) for every front end;
- :mod:`.results`: what jobs did (``JobResult``); :mod:`.summary`: the one rule from them to
  ``overall_status`` / ``summary_text``, and the one verdict (``run_succeeded``).
"""

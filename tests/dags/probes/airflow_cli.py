"""Parse command lines with Airflow's own CLI parser, without running them.

Usage: airflow_cli.py '<json list of argv lists>'; prints ``RESULT <json>``: for each
command line, ``null`` when Airflow accepts it, else the parser's complaint.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys


def main() -> None:
    from airflow.cli.cli_parser import get_parser

    verdicts: list[str | None] = []
    for argv in json.loads(sys.argv[1]):
        parser = get_parser()
        complaint = io.StringIO()
        try:
            with contextlib.redirect_stderr(complaint):
                parser.parse_args(argv)
            verdicts.append(None)
        except SystemExit:
            lines = complaint.getvalue().strip().splitlines()
            verdicts.append(lines[-1] if lines else "rejected")
    print("RESULT " + json.dumps(verdicts))


if __name__ == "__main__":
    main()

"""The policy lab (``countysim lab``): a Streamlit page for planners over the Python API.

``serve`` starts Streamlit on the app script with the lab's safety settings: loopback only unless
told otherwise, uploads capped at 1 MB, no usage statistics, no file watcher.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"
MAX_UPLOAD_MB = 1


def streamlit_command(host: str = "127.0.0.1", port: int = 8501) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP),
            "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--server.maxUploadSize", str(MAX_UPLOAD_MB), "--server.fileWatcherType", "none",
            "--server.runOnSave", "false", "--browser.gatherUsageStats", "false",
            "--global.developmentMode", "false", "--client.toolbarMode", "minimal", "--theme.base", "light"]


def serve(host: str = "127.0.0.1", port: int = 8501, results: str | Path = "results/lab") -> None:
    """Replace this process with the Streamlit server (Ctrl-C stops it; runs in progress go on)."""
    results = Path(results).resolve()
    results.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "COUNTYSIM_LAB_RESULTS": str(results)}
    print(f"countysim lab: http://{host}:{port}  (results in {results}/; Ctrl-C to stop)", file=sys.stderr)
    sys.stderr.flush()
    os.execve(sys.executable, streamlit_command(host, port), env)

"""Helpers the benchmark drivers share."""
import subprocess
import sys
import time

# Pipeline settings for a run that only loads data: no rules, forecast, anomalies or report.
LOAD_ONLY = """[rules]
enabled = false
[forecast]
enabled = false
[anomalies]
enabled = false
[report]
enabled = false
"""


def _high_water_mib(pid):
    """The process's peak resident set so far (VmHWM), in MiB; None once it has gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def measured(cmd, **kw):
    """Run cmd; return (seconds, peak RSS in MiB, stdout).

    The peak is read from /proc while the command runs (every 20 ms), not from rusage: a child's
    rusage peak starts at the forking parent's, and the benchmark drivers hold generated data."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    peak = 0.0
    while True:
        peak = max(peak, _high_water_mib(proc.pid) or 0.0)
        try:
            out, err = proc.communicate(timeout=0.02)
            break
        except subprocess.TimeoutExpired:
            continue
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{out}\n{err}")
    return seconds, peak, out

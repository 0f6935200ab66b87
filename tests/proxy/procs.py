"""Process helpers of the lbg-proxy tests."""
import os
import time


def wait_port_file(path, proc, what, tries=1500):
    """The port a started process (lbg-proxy --port-file, lbg-icapd --ready-file) wrote to `path`,
    waiting up to `tries` × 20 ms; exits the test when the process died or never wrote it."""
    for _ in range(tries):
        if os.path.exists(path) or proc.poll() is not None:
            break
        time.sleep(0.02)
    if not os.path.exists(path):
        raise SystemExit(f"{what} did not start")
    return int(open(path).read())

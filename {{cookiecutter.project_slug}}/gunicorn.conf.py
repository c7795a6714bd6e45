"""gunicorn settings, read by `gunicorn app:server` from this folder.

Environment: PORT (8050), HOST (127.0.0.1; 0.0.0.0 in a container), WEB_CONCURRENCY (workers, 2),
GUNICORN_THREADS (threads per worker, 4).
"""

import gc
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads, so that a worker busy checking a password (scrypt, half a second, at most
# PASSWORD_CHECKS_AT_ONCE side by side) still answers signed-in people at once.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Trust in proxies is decided in one place, the app's TRUSTED_PROXY_HOPS setting. Left at
# its defaults, gunicorn would believe X-Forwarded-Proto from any client on 127.0.0.1.
secure_scheme_headers = {}
forwarded_allow_ips = ""

# Plain access log lines on standard output; the app's audit log goes to standard error.
accesslog = "-"


def post_worker_init(worker):
    """The app is loaded, and lives as long as the worker: frozen out of the garbage collector's
    sight, its full collections look only at what requests leave (over the whole loaded app one
    takes tens of milliseconds, a pause every few thousand requests)."""
    gc.freeze()

"""gunicorn settings for IAM Portal (read automatically from the working directory).

Workers are stateless: sessions and every other piece of state live in the database, so scale out
with more workers (WEB_CONCURRENCY) or more containers behind any load balancer.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Access and error logs on stdout/stderr, for the container runtime to collect.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The runtime control socket is not used; it would try to write under the (absent) home directory.
control_socket_disable = True

"""Load tooling of IAM Portal: a large seeded company and a benchmark that measures the pages on it.

It lives beside the product, not in it (the Docker image leaves it out), and runs as `python -m bench`.
Goals and how to read a run: docs/performance.md.
"""

"""Constants of the demo data, shared by `seed_demo`, the load tooling (`bench`) and the tests."""

# Every demo account signs in with it, and so does every account `python -m bench seed_scale` makes.
# dev.py runs this file on its own, before Django is installed: keep it free of imports.
DEMO_PASSWORD = "demo-password-2026"

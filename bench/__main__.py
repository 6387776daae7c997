"""`python -m bench seed_scale [...]` builds a large company; `python -m bench run [...]` measures it.

Both read the project's settings from the environment like manage.py does (DATABASE_URL, DEBUG, ...).
`python -m bench SUBCOMMAND --help` lists the options.
"""

from __future__ import annotations

import argparse
import os
import sys


def build_parser() -> argparse.ArgumentParser:
    from bench import run, seed  # they import the models: only once Django is set up

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="{seed_scale,run}")
    for name, module, handler in (
        ("seed_scale", seed, seed.seed_scale),
        ("run", run, run.benchmark),
    ):
        sub = commands.add_parser(
            name,
            help=module.__doc__.splitlines()[0],
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(handler=handler)
    return parser


def dispatch(argv: list[str], stdout=None) -> None:
    """Run one subcommand in this process (Django already set up); CommandError on refusal."""
    from django.core.management.base import OutputWrapper

    options = vars(build_parser().parse_args(argv))
    handler = options.pop("handler")
    del options["command"]
    handler(options, OutputWrapper(stdout or sys.stdout))


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "iam_portal.settings")
    import django
    from django.core.management.base import CommandError

    django.setup()
    try:
        dispatch(sys.argv[1:])
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # gunicorn is already stopped by then
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

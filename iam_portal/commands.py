"""What every `manage.py` command of the portal shares: how it refuses bad input."""

from typing import NoReturn

from django.core.management.base import BaseCommand

EXIT_ERROR = 2


def bad_input(command: BaseCommand, message: str) -> NoReturn:
    """Refuse bad input: one `error: …` line on stderr and exit status 2. Plain text even on a terminal,
    so that the line always starts with "error: " for the scripts that read it."""
    command.stderr.write(f"error: {message}", style_func=lambda text: text)
    raise SystemExit(EXIT_ERROR)

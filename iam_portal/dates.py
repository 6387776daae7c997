"""The one way the portal's pages write a moment: "4 Mar 2026, 09:05" in the site's time zone (TIME_ZONE).

Templates use {{ value|when }} (orgs/templatetags/ui.py), which wraps it in a <time> element; sentences
built in Python (an inherited role "until …") use `moment`.
"""

import datetime

from django.utils import dateformat
from django.utils.timezone import template_localtime

DATETIME_FORMAT = "j M Y, H:i"
DATE_FORMAT = "j M Y"


def moment(value: datetime.date) -> str:
    """4 Mar 2026, 09:05 (a datetime, in the site's time zone) or 4 Mar 2026 (a date)."""
    if isinstance(value, datetime.datetime):
        return dateformat.format(template_localtime(value), DATETIME_FORMAT)
    return dateformat.format(value, DATE_FORMAT)

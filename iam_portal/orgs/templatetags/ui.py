"""The page pieces every list page and every dialog share, {% table %}, {% dialog %} and the dialogs'
{% preview %} of what a change does, and the one way dates are shown, {{ value|when }}.

Each is a block tag: the page writes only its own part (columns and one row; the dialog's body) and the tag
wraps it in the one markup kept in templates/_table.html and templates/_dialog.html. The page still defines
its htmx partial around the tag ({% partialdef table inline %}, {% partialdef dialog inline %}), so views
keep rendering "page.html#table" and "page.html#dialog". They live in orgs, the app every other app builds on.
"""

import datetime

from django import template
from django.template.base import token_kwargs
from django.utils.html import format_html
from django.utils.timezone import template_localtime

from iam_portal.dates import moment
from iam_portal.htmx import opened_from, wants_partial
from iam_portal.links import row_url as _row_url

register = template.Library()

TABLE_SECTIONS = ("count", "row", "empty")


@register.tag
def table(parser, token):
    """{% table "users-table" total=total noun="user" caption="…" %} header cells
    {% count %} more words for the count line (optional) {% row %} one row, as `row` {% empty %} words when
    there are no rows {% endtable %}

    Options: total, noun (singular), nouns (plural, default noun + "s"), caption, class (of the container).
    Reads `page` and `params` (pagination.table_state) from the context, like every table view provides."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% table %} needs the id of its container first.")
    table_id = parser.compile_filter(bits[1])
    options = _options(parser, bits[2:], "table")
    sections, name = {}, "columns"
    while name != "endtable":
        sections[name] = parser.parse((*TABLE_SECTIONS, "endtable"))
        name = parser.next_token().contents
        if name in sections:
            raise template.TemplateSyntaxError(f"{{% table %}} has two {{% {name} %}} sections.")
    if "row" not in sections:
        raise template.TemplateSyntaxError("{% table %} needs a {% row %} section.")
    return TableNode(table_id, options, sections)


class TableNode(template.Node):
    def __init__(self, table_id, options, sections):
        self.table_id, self.options, self.sections = table_id, options, sections

    def render(self, context):
        table_id = self.table_id.resolve(context)
        target = f"#{table_id}"
        # The sort headers (_sort_header.html) find the current sort and the table to reload here.
        with context.push(target=target, sort=context["params"]["sort"]):
            columns = self.sections["columns"].render(context)
        rows = []
        for row in context["page"].rows:
            with context.push(row=row):
                rows.append(self.sections["row"].render(context))
        options = {name: value.resolve(context) for name, value in self.options.items()}
        options.setdefault("nouns", f"{options.get('noun', '')}s")
        return _render(
            context,
            "_table.html#shell",
            **options,
            id=table_id,
            target=target,
            columns=columns,
            column_count=columns.count("<th"),
            rows=rows,
            empty=self._section(context, "empty") if not rows else "",
            count_more=self._section(context, "count"),
        )

    def _section(self, context, name: str) -> str:
        return self.sections[name].render(context) if name in self.sections else ""


@register.tag
def dialog(parser, token):
    """{% dialog "Title" submit="Save" cancel=url %} body {% enddialog %}

    A form posted back to the URL the dialog came from, with a Cancel link and a submit button
    (danger=True for a destructive one, disabled=… to offer none, the body saying why), or, with done=url
    instead, a result and a "Done" button."""
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% dialog %} needs its title first.")
    title = parser.compile_filter(bits[1])
    options = _options(parser, bits[2:], "dialog")
    body = parser.parse(("enddialog",))
    parser.delete_first_token()
    return DialogNode(title, options, body)


class DialogNode(template.Node):
    def __init__(self, title, options, body):
        self.title, self.options, self.body = title, options, body

    def render(self, context):
        options = {name: value.resolve(context) for name, value in self.options.items()}
        title, body = self.title.resolve(context), self.body.render(context)
        request = context["request"]
        # Cancel, Close and Done go back to the page the dialog was opened from, its filters kept; the form
        # carries that page on (as `next`) so a no-JavaScript save returns there too (htmx.done).
        came_from = opened_from(request)
        for name in ("cancel", "done"):
            if options.get(name) and came_from:
                options[name] = came_from
        return _render(
            context,
            "_dialog.html#skeleton",
            **options,
            title=title,
            body=body,
            came_from=came_from,
            close=options.get("cancel") or options.get("done"),
            in_dialog=wants_partial(request),
        )


@register.tag
def preview(parser, token):
    """{% preview live=True %} what a removal deletes (optional) {% endpreview %}

    The dialog's one "what this changes" region (templates/_dialog.html#preview), showing the context's
    `preview` (access.preview.Preview). live=True: it asks again whenever a field of the form changes."""
    options = _options(parser, token.split_contents()[1:], "preview")
    body = parser.parse(("endpreview",))
    parser.delete_first_token()
    return PreviewNode(options, body)


class PreviewNode(template.Node):
    def __init__(self, options, body):
        self.options, self.body = options, body

    def render(self, context):
        options = {name: value.resolve(context) for name, value in self.options.items()}
        return _render(context, "_dialog.html#preview", **options, body=self.body.render(context))


def _options(parser, bits: list[str], tag: str) -> dict:
    options = token_kwargs(bits, parser)
    if bits:
        raise template.TemplateSyntaxError(f"{{% {tag} %}}: options are written name=value, not {bits[0]!r}.")
    return options


def _render(context, partial: str, **values) -> str:
    """Render a shared partial with the page's own context (request, csrf token, page…) plus `values`."""
    with context.push(**values):
        return context.template.engine.get_template(partial).render(context)


@register.simple_tag
def row_url(name: str, *args) -> str:
    """{% row_url 'route' arg … id [as var] %}: {% url %} for table rows (iam_portal.links)."""
    return _row_url(name, *args)


@register.filter
def when(value, empty: str = "Never"):
    """{{ row.last_login|when }} → <time datetime="2026-03-04T09:05:00+00:00">4 Mar 2026, 09:05</time>: the
    one date format of the portal (`iam_portal.dates.moment`); `empty` (muted) when there is no date."""
    if not value:
        return format_html('<span class="muted">{}</span>', empty)
    if isinstance(value, datetime.datetime):
        value = template_localtime(value)
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), moment(value))

"""Patient statements as an HTML page and as a PDF, from a patient's `AccountActivity`.

The HTML is a whole page with no inline style or script (the workbench's CSP is
``default-src 'self'; style-src 'self'``): its look is `static/statement.css`, linked from
``css_href`` and served by the web layer; `statement_css` gives its text.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from importlib.resources import files

from jinja2 import Environment, PackageLoader, StrictUndefined

from chartkeeper.billing.account_model import AccountActivity
from chartkeeper.billing.statements.content import TEXT, BillingOffice, build_statement
from chartkeeper.billing.statements.pdf import render_pdf

__all__ = ["DEFAULT_CSS_HREF", "BillingOffice", "statement_css", "statement_html", "statement_pdf"]

#: Where the web layer serves `statement_css` unless told otherwise.
DEFAULT_CSS_HREF = "/static/statement.css"

_ENVIRONMENT = Environment(
    loader=PackageLoader("chartkeeper.billing.statements", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def statement_html(
    activity: AccountActivity, office: BillingOffice, *, css_href: str = DEFAULT_CSS_HREF
) -> str:
    """The statement as a standalone HTML page; every value is escaped."""
    template = _ENVIRONMENT.get_template("statement.html")
    return template.render(st=build_statement(activity, office), text=TEXT, css_href=css_href)


def statement_pdf(activity: AccountActivity, office: BillingOffice) -> bytes:
    """The statement as PDF; the same activity always gives the same bytes."""
    created = datetime.combine(activity.statement_date, time(), tzinfo=UTC)
    return render_pdf(build_statement(activity, office), created)


def statement_css() -> str:
    """The statement stylesheet, for the web layer to serve at ``css_href``."""
    return files("chartkeeper.billing.statements").joinpath("static/statement.css").read_text()

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def mg(value):
    """A dose as clinics write it: 1.5, 3.0, 0.75 (never 1.50 or 3)."""
    if value in (None, ""):
        return ""
    text = f"{Decimal(value).quantize(Decimal('0.01')):f}"
    if text.endswith("0"):
        text = text[:-1]
    return text


@register.filter
def unstop(value):
    """Text without its closing full stop, for a sentence that goes on after it: "(held for
    a few more days)." rather than "(held for a few more days.).", "in a row." not "..."."""
    return str(value or "").rstrip().rstrip(".")

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

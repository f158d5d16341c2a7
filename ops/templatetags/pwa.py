from django import template
from django.utils.crypto import salted_hmac

register = template.Library()


@register.simple_tag
def device_owner_tag(user) -> str:
    """Who this page is for, as the page's script compares it with the last person on the
    device, without the page saying who that is (no id in the page)."""
    return salted_hmac("ops.pwa.device-owner", str(user.pk), algorithm="sha256").hexdigest()[:20]

"""Walking the URL configuration and running one pattern through every persona.

Kept apart from the table (test_authorization_matrix.py) so the table reads as a review
document: one row per URL pattern, one outcome per persona and method.
"""

import re
from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .conftest import (
    audit_rows,
    changed_tables,
    csrf_token,
    database_fingerprint,
    persona_client,
)

# A redirect is named by where it goes; these are the ones that mean "not for you (yet)".
DENIALS = {"login", "adminlogin", "mfa", "reauth", "403", "404", "405"}
REDIRECT_NAMES = [
    ("/accounts/login/", "login"),
    ("/admin/login/", "adminlogin"),
    ("/accounts/2fa/", "mfa"),
    ("/accounts/reauthenticate/", "reauth"),
    ("/r/", "action"),  # an email link's confirmation page
]


@dataclass(frozen=True)
class Pattern:
    key: str  # the view name, or for an unnamed pattern its route
    route: str
    name: str | None
    regex: bool


def url_patterns() -> list[Pattern]:
    found = []

    def walk(resolver, prefix="", namespace=None):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
                found.append(
                    Pattern(
                        key=name or route,
                        route=route,
                        name=name,
                        regex="(?P<" in route or route.endswith("$"),
                    )
                )

    walk(get_resolver())
    return found


def admin_object_kwargs(route: str, world) -> dict:
    """Admin object URLs point at patient A's row of that model (or the first row)."""
    a = world["patient_a"]
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if route.startswith("admin/r/"):
        return {"content_type_id": ContentType.objects.get_for_model(a).pk, "object_id": a.pk}
    if route.startswith("admin/accounts/user/<id>"):
        return {"id": a.pk}
    model = apps.get_model(match[1], match[2])
    names = {f.name for f in model._meta.get_fields()}
    rows = model._default_manager.order_by("pk")
    if model is type(a):
        row = a
    elif "patient" in names:
        row = rows.filter(patient=a).first() or rows.first()
    else:
        row = rows.first()
    return {"object_id": row.pk if row else 1}


def path_for(pattern: Pattern, kwargs: dict) -> str:
    if pattern.name and not pattern.name.startswith("admin:app_list"):
        return reverse(pattern.name, kwargs=kwargs)
    if pattern.name == "admin:app_list":
        return "/admin/titration/"
    if pattern.route.endswith("(?P<url>.*)$"):
        return "/admin/no-such-page/"
    path = pattern.route
    for key, value in kwargs.items():
        path = re.sub(rf"<(\w+:)?{key}>", str(value), path)
    return "/" + path


# ...and the usual places a page sends someone on to.
REDIRECT_TARGETS = {
    "/": "home",
    "/today/": "today",
    "/welcome/": "onboarding",
    "/clinic/": "panel",
    "/clinic/patients/<id>/": "patient",
    "/clinic/patients/<id>/plan/": "plan",
    "/sharing/": "sharing",
    "/settings/reminders/": "reminders",
    "/settings/account/": "account",
    "/accounts/email/": "email",
    "/accounts/password/change/": "pwchange",
    "/admin/": "adminindex",
}


def outcome(response) -> str:
    """A short name for a response: its status, or where a redirect goes."""
    if response.status_code in (301, 302, 303):
        location = response["Location"]
        for prefix, name in REDIRECT_NAMES:
            if location.startswith(prefix):
                return name
        target = re.sub(r"/\d+/", "/<id>/", re.split(r"[?#]", location)[0])
        return REDIRECT_TARGETS.get(target, "302>" + target)
    return str(response.status_code)


def run(world, pattern: Pattern, path: str, owner_fields: dict, personas, csrf_exempt=False):
    """{persona: {"GET": outcome, "POST": outcome, "POST-no-csrf": outcome}} plus checks.

    Every GET must leave every row as it was. A request that is refused must change nothing
    either. Audit rows may be appended (the log of who looked), never changed.
    """
    observed, problems = {}, []
    after = database_fingerprint()
    for persona in personas:
        client = persona_client(world, persona)
        seen = observed[persona] = {}
        is_admin_page = pattern.route.startswith("admin/")
        body = {} if is_admin_page and persona == "admin" else owner_fields

        before, audit_before = after, audit_rows()
        seen["GET"] = outcome(client.get(path))
        after = database_fingerprint()
        if changed := changed_tables(before, after):
            problems.append(f"{persona} GET {path} changed {changed}")
        if audit_rows()[: len(audit_before)] != audit_before:
            problems.append(f"{persona} GET {path} changed earlier audit rows")

        # The CSRF check comes before any view and knows nobody: on the admin's ~150
        # patterns two personas show it, to keep the matrix fast enough for every build.
        if not is_admin_page or persona in ("anonymous", "admin"):
            seen["POST-no-csrf"] = outcome(client.post(path, body))
            before, after = after, database_fingerprint()
        if not csrf_exempt and (changed := changed_tables(before, after)):
            problems.append(f"{persona} POST without a CSRF token {path} changed {changed}")

        response = client.post(path, body, headers={"X-CSRFToken": csrf_token(client)})
        seen["POST"] = outcome(response)
        before, after = after, database_fingerprint()
        if seen["POST"] in DENIALS and (changed := changed_tables(before, after)):
            problems.append(f"{persona} POST {path} was refused but changed {changed}")
        if response.status_code >= 500:
            problems.append(f"{persona} POST {path} answered {response.status_code}")
    return observed, problems

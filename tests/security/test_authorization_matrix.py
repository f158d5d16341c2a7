"""The authorization matrix (issue 7): every URL pattern the project resolves, every persona,
every method.

For each pattern in `get_resolver()` and each persona, the test sends a GET, a POST without a
CSRF token and a POST with one (owner fields in the body point at patient B), and compares
what happens with the row below. Object ids in the URL are patient A's. Along the way:

- no GET changes any row (every table is fingerprinted before and after);
- a refused request (404, 403, 405, a login or MFA redirect) changes no row;
- a POST without a CSRF token is a 403 (the one exemption is named in CSRF_EXEMPT);
- nothing answers 5xx.

A pattern without a row fails `test_every_url_pattern_has_a_row`: a new view cannot ship
without someone deciding who may open it.

Outcomes: a status code, or where a redirect goes: `login` (log in first), `mfa` (set up or
pass two-factor), `reauth` (type the password again), `adminlogin`, or a page name (`today`,
`panel`, `home`, `patient`, `sharing`, `account`, `onboarding`, `email`, `pwchange`).
"""

import pytest

from .conftest import PERSONAS
from .matrix import admin_object_kwargs, path_for, run, url_patterns

# Refused personas first, so the allowed ones' changes come last and cannot hide a refusal.
ORDER = [
    "anonymous",
    "deactivated",
    "patient_b",
    "clinician_unlinked",
    "clinician_revoked",
    "admin",
    "clinician_linked",
    "patient_a",
]

# RFC 8058 one-click unsubscribe: the mail provider POSTs without our form; the signed token
# is the credential, and pausing reminders is the only thing it can do.
# A notification's buttons: the service worker POSTs with the signed single-use token alone.
CSRF_EXEMPT = {"reminders_pause", "reminder_push_action"}

# Pages opened with a signed token from an email rather than a login: whoever holds the
# link may use it, whoever is logged in (the signature, expiry and single use protect them).
# Their POST rows show the first use succeeding and the rest finding it used.

# fmt: off
# Columns: anonymous, patient A, patient B, clinician linked to A, clinician not linked,
# clinician whose access A revoked, deactivated user, administrator.
MATRIX = {
    "home": (
        "200 today today panel panel panel 200 200",
        "200 today today panel panel panel 200 200",
    ),
    "healthz": (
        "200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405",
    ),
    "web_manifest": (
        "200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405",
    ),
    "service_worker": (
        "200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405",
    ),
    "account_login": (
        "200 today today panel panel panel 200 home",
        "200 today today panel panel panel 200 home",
    ),
    "account_logout": (
        "home 200 200 200 200 200 home 200",
        "home home home home home home home home",
    ),
    "account_inactive": (
        "200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405",
    ),
    "account_signup": (
        "200 today today panel panel panel 200 home",
        "200 today today panel panel panel 200 home",
    ),
    "account_reauthenticate": (
        "login 200 200 200 200 200 login 200",
        "login 200 200 200 200 200 login 200",
    ),
    "account_email": (
        "login 200 200 200 200 200 login 200",
        "login email email email email email login email",
    ),
    "account_email_verification_sent": (
        "200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405",
    ),
    "account_change_password": (
        "login 200 200 200 200 200 login 200",
        "login 200 200 200 200 200 login 200",
    ),
    "account_set_password": (
        "login pwchange pwchange pwchange pwchange pwchange login pwchange",
        "login pwchange pwchange pwchange pwchange pwchange login pwchange",
    ),
    "account_reset_password": (
        "200 200 200 200 200 200 200 200",
        "200 200 200 200 200 200 200 200",
    ),
    "account_confirm_login_code": (
        "login today today panel panel panel login home",
        "login today today panel panel panel login home",
    ),
    "account_confirm_email": (
        "200 200 200 200 200 200 200 200",
        "404 404 404 404 404 404 404 404",
    ),
    "account_reset_password_from_key_done": (
        "200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405",
    ),
    "account_reset_password_from_key": (
        "200 200 200 200 200 200 200 200",
        "200 200 200 200 200 200 200 200",
    ),
    "account_reset_password_done": (
        "200 200 200 200 200 200 200 200",
        "405 405 405 405 405 405 405 405",
    ),
    "mfa_index": (
        "login 200 200 200 200 200 login 200",
        "login 405 405 405 405 405 login 405",
    ),
    "mfa_authenticate": (
        "login today today panel panel panel login home",
        "login today today panel panel panel login home",
    ),
    "mfa_reauthenticate": (
        "login reauth reauth 200 200 200 login 200",
        "login reauth reauth 200 200 200 login 200",
    ),
    # A session logged in moments ago may add an app without typing the password again;
    # a person who has one already is sent to the page that manages it.
    "mfa_activate_totp": (
        "login 200 200 mfa mfa mfa login mfa",
        "login 200 200 mfa mfa mfa login mfa",
    ),
    "mfa_deactivate_totp": (
        "login 404 404 reauth reauth reauth login reauth",
        "login 404 404 reauth reauth reauth login reauth",
    ),
    "mfa_view_recovery_codes": (
        "login 404 404 404 404 404 login 404",
        "login 405 405 405 405 405 login 405",
    ),
    "mfa_generate_recovery_codes": (
        "login reauth reauth reauth reauth reauth login reauth",
        "login reauth reauth reauth reauth reauth login reauth",
    ),
    "mfa_download_recovery_codes": (
        "login 404 404 404 404 404 login 404",
        "login 404 404 404 404 404 login 404",
    ),
    "onboarding": (
        "login today today 404 404 404 login 404",
        "login today today 404 404 404 login 404",
    ),
    "onboarding_stop": (
        "login onboarding onboarding 404 404 404 login 404",
        "login onboarding onboarding 404 404 404 login 404",
    ),
    "onboarding_step": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "account_settings": (
        "login 200 200 404 404 404 login 404",
        "login 400 400 404 404 404 login 404",  # an empty form: the messages, not a save
    ),
    "profile": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    # Patients whose plan began in the app have no nights before joining to report.
    "onboarding_history": (
        "login today today 404 404 404 login 404",
        "login today today 404 404 404 login 404",
    ),
    "data_export": (
        "login 405 405 405 405 405 login 405",
        "login reauth reauth 404 404 404 login 404",
    ),
    "download_started": (
        "login account account 404 404 404 login 404",
        "login 405 405 405 405 405 login 405",
    ),
    "download_file": (
        "login account account 404 404 404 login 404",
        "login 405 405 405 405 405 login 405",
    ),
    "account_delete": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "account_delete_scheduled": (
        "login account account 404 404 404 login 404",
        "login 405 405 405 405 405 login 405",
    ),
    "account_delete_cancel": (
        "login account account 404 404 404 login 404",
        "login account account 404 404 404 login 404",
    ),
    "today": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "dose_take": (
        "login 405 405 405 405 405 login 405",
        "login today today 404 404 404 login 404",
    ),
    "dose_skip": (
        "login 200 200 404 404 404 login 404",
        "login today today 404 404 404 login 404",
    ),
    "dose_undo": (
        "login 405 405 405 405 405 login 405",
        "login today today 404 404 404 login 404",
    ),
    "dose_late": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "dose_time_choice": (
        "login 405 405 405 405 405 login 405",
        "login today today 404 404 404 login 404",
    ),
    "plan": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "plan_calendar": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "plan_calendar_month": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "plan_hold": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "step_back": (
        "login today today 404 404 404 login 404",
        "login today today 404 404 404 login 404",
    ),
    "supply": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "medicines_changed": (
        "login 200 200 404 404 404 login 404",
        "login 400 400 404 404 404 login 404",
    ),
    "diary": (
        "login 200 200 404 404 404 login 404",
        "login today today 404 404 404 login 404",
    ),
    "diary_day": (
        "login 200 200 404 404 404 login 404",
        "login today today 404 404 404 login 404",
    ),
    "progress": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "questionnaire": (
        "login today today 404 404 404 login 404",
        "login today today 404 404 404 login 404",
    ),
    "report": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "report_pdf": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "export_zip": (
        "login 405 405 405 405 405 login 405",
        "login reauth reauth 404 404 404 login 404",
    ),
    "export_fhir": (
        "login 405 405 405 405 405 login 405",
        "login reauth reauth 404 404 404 login 404",
    ),
    "reminder_settings": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "reminder_action": (
        "200 200 200 200 200 200 200 200",
        "200 200 200 200 200 200 200 200",
    ),
    "push_device_add": (
        "login 405 405 405 405 405 login 405",
        "login 400 400 404 404 404 login 404",
    ),
    "push_device_remove": (
        "login 405 405 405 405 405 login 405",
        "login reminders 404 404 404 404 login 404",
    ),
    "reminder_push_action": (
        "action action action action action action action action",
        "200 200 200 200 200 200 200 200",
    ),
    "dose_offline": (
        "login 405 405 405 405 405 login 405",
        "login 400 400 404 404 404 login 404",
    ),
    "diary_offline": (
        "login 405 405 405 405 405 login 405",
        "login 400 400 404 404 404 login 404",
    ),
    "reminders_pause": (
        "200 200 200 200 200 200 200 200",
        "200 200 200 200 200 200 200 200",
    ),
    "clinic:panel": (
        "login 404 404 200 200 200 login 404",
        "login 404 404 panel panel panel login 404",
    ),
    "clinic:clinician_signup": (
        "200 home home home home home 200 home",
        "200 home home home home home 200 home",
    ),
    "clinic:clinician_signup_done": (
        "200 200 200 200 200 200 200 200",
        "200 200 200 200 200 200 200 200",
    ),
    "clinic:clinician_invite_accept": (
        "200 200 200 200 200 200 200 200",
        "200 200 200 200 200 200 200 200",
    ),
    # "Continue" after the recovery codes: back to where the person was going, else their
    # start page.
    "clinic:after_mfa_setup": (
        "login today today panel panel panel login home",
        "login 405 405 405 405 405 login 405",
    ),
    "clinic:clinician_pending": (
        "login 404 404 panel panel panel login 404",
        "login 404 404 panel panel panel login 404",
    ),
    "clinic:care_invite": (
        "login 404 404 200 200 200 login 404",
        "login 404 404 200 200 200 login 404",
    ),
    "clinic:patient_detail": (
        "login 404 404 200 404 404 login 404",
        "login 404 404 200 404 404 login 404",
    ),
    "clinic:patient_plan": (
        "login 404 404 200 404 404 login 404",
        "login 404 404 404 404 404 login 404",
    ),
    "clinic:opioid_clear": (
        "login 405 405 405 405 405 login 405",
        "login 404 404 plan 404 404 login 404",
    ),
    "clinic:alert_settings": (
        "login 405 405 405 405 405 login 405",
        "login 404 404 patient 404 404 login 404",
    ),
    "clinic:note_add": (
        "login 405 405 405 405 405 login 405",
        "login 404 404 patient 404 404 login 404",
    ),
    "clinic:patient_identity": (
        "login 405 405 405 405 405 login 405",
        "login 404 404 patient 404 404 login 404",
    ),
    "clinic:note_edit": (
        "login 404 404 200 404 404 login 404",
        "login 404 404 200 404 404 login 404",
    ),
    "clinic:alert_acknowledge": (
        "login 405 405 405 405 405 login 405",
        "login 404 404 patient 404 404 login 404",
    ),
    "clinic:export_pdf": (
        "login 404 404 200 404 404 login 404",
        "login 404 404 200 404 404 login 404",
    ),
    "clinic:export_csv": (
        "login 404 404 200 404 404 login 404",
        "login 404 404 200 404 404 login 404",
    ),
    "clinic:export_fhir": (
        "login 404 404 200 404 404 login 404",
        "login 404 404 200 404 404 login 404",
    ),
    "clinic:sharing": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
    "clinic:sharing_accept": (
        "login sharing 200 404 404 404 login 404",
        "login sharing sharing 404 404 404 login 404",
    ),
    "clinic:sharing_revoke": (
        "login 405 405 405 405 405 login 405",
        "login sharing 404 404 404 404 login 404",
    ),
    "clinic:sharing_log": (
        "login 200 200 404 404 404 login 404",
        "login 200 200 404 404 404 login 404",
    ),
}
# fmt: on

# The admin site: every non-administrator is sent to a login (the account login, the admin's
# own login, or two-factor set-up, which patients meet before the admin refuses them).
ADMIN_REFUSED = {"login", "adminlogin", "mfa"}
ADMIN_EXCEPTIONS = {
    # The admin's login form is public; a logged-in administrator is sent on to the index.
    "admin:login": (
        "200 200 200 200 200 200 200 adminindex",
        "200 200 200 200 200 200 200 200",
    ),
    # Logging out of the admin when not on it: the index, which then refuses them.
    "admin:logout": (
        "adminlogin mfa mfa adminindex adminindex adminindex adminlogin 405",
        "adminlogin mfa mfa adminindex adminindex adminindex adminlogin home",
    ),
}


def kwargs_for(pattern, world):
    o = world.objects
    a = world["patient_a"]
    table = {
        "account_confirm_email": {"key": "not-a-real-key"},
        "account_reset_password_from_key": {"uidb36": "2", "key": "not-a-real-key"},
        "onboarding_step": {"step": "safety"},
        "plan_calendar_month": {"year": o["today"].year, "month": o["today"].month},
        "diary_day": {"day": o["yesterday"].isoformat()},
        "questionnaire": {"kind": "pgic", "week": 4},
        "download_started": {"kind": "everything"},
        "download_file": {"kind": "everything"},
        "reminder_action": {"token": o["action_token"]},
        "reminders_pause": {"token": o["pause_token"]},
        "reminder_push_action": {"token": o["action_token"]},
        "push_device_remove": {"pk": o["device"].pk},
        "clinic:clinician_invite_accept": {"token": o["invite_token"]},
        "clinic:patient_detail": {"patient_id": a.pk},
        "clinic:patient_plan": {"patient_id": a.pk},
        "clinic:alert_settings": {"patient_id": a.pk},
        "clinic:opioid_clear": {"patient_id": a.pk},
        "clinic:note_add": {"patient_id": a.pk},
        "clinic:patient_identity": {"patient_id": a.pk},
        "clinic:note_edit": {"patient_id": a.pk, "note_id": o["note"].pk},
        "clinic:alert_acknowledge": {"patient_id": a.pk, "alert_id": o["alert"].pk},
        "clinic:export_pdf": {"patient_id": a.pk},
        "clinic:export_csv": {"patient_id": a.pk},
        "clinic:export_fhir": {"patient_id": a.pk},
        "clinic:sharing_accept": {"code": o["invitation"].code},
        "clinic:sharing_revoke": {"link_id": o["active_link"].pk},
    }
    if pattern.key in table:
        return table[pattern.key]
    if pattern.route.startswith("admin/") and "<" in pattern.route and not pattern.regex:
        return admin_object_kwargs(pattern.route, world)
    return {}


def owner_fields(world):
    """Fields a forged form might add to claim another owner; every view must ignore them."""
    b = world["patient_b"]
    other = world["clinician_unlinked"]
    return {
        "patient": b.pk,
        "patient_id": b.pk,
        "user": b.pk,
        "user_id": b.pk,
        "author": other.pk,
        "clinician": other.pk,
    }


def expected(pattern) -> dict:
    """{persona: {"GET": outcome, "POST": outcome}}, or None where any refusal will do."""
    row = MATRIX.get(pattern.key) or ADMIN_EXCEPTIONS.get(pattern.key)
    if row is None:
        return None
    get, post = (dict(zip(PERSONAS, line.split(), strict=True)) for line in row)
    return {persona: {"GET": get[persona], "POST": post[persona]} for persona in PERSONAS}


PATTERNS = url_patterns()


def test_every_url_pattern_has_a_row():
    keys = {p.key for p in PATTERNS}
    missing = [p.key for p in PATTERNS if p.key not in MATRIX and not p.route.startswith("admin/")]
    assert not missing, f"URL patterns with no row in the authorization matrix: {missing}"
    stale = [key for key in [*MATRIX, *ADMIN_EXCEPTIONS] if key not in keys]
    assert not stale, f"Matrix rows for URL patterns that no longer exist: {stale}"


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.key)
def test_authorization_matrix(shared_world, db, pattern):
    world = shared_world
    path = path_for(pattern, kwargs_for(pattern, world))
    observed, problems = run(
        world, pattern, path, owner_fields(world), ORDER, csrf_exempt=pattern.key in CSRF_EXEMPT
    )

    csrf = "200" if pattern.key in CSRF_EXEMPT else "403"
    for persona in PERSONAS:
        if observed[persona].get("POST-no-csrf", csrf) != csrf:
            problems.append(f"{persona} POST without a CSRF token: {observed[persona]}")
    want = expected(pattern)
    for persona in PERSONAS:
        got = {method: observed[persona][method] for method in ("GET", "POST")}
        if want is not None:
            if got != want[persona]:
                problems.append(f"{persona}: expected {want[persona]}, got {got}")
        elif persona != "admin" and not set(got.values()) <= ADMIN_REFUSED:
            problems.append(f"{persona} reached the admin: {got}")
        elif any(outcome.startswith("5") for outcome in got.values()):
            problems.append(f"{persona}: server error {got}")
    assert not problems, f"{path}:\n" + "\n".join(problems)

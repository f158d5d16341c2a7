"""The patient's downloads (everything we hold; the diary and doses as CSV), in two steps.

A POST, behind a recent password, grants this session the file for a few minutes and
opens a page that says "Your download has started" and starts it; the file itself is then a
GET the page can point at. So the last page after a password check is never a stale form,
and reloading that page or pressing its link downloads the file again while it is fresh.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from symptoms import exports as symptom_exports
from symptoms import fhir

from . import exports

GRANTS_KEY = "privacy_download_grants"
GRANT_SECONDS = 5 * 60


@dataclass(frozen=True)
class Download:
    build: Callable
    filename: str  # before "-<date>.<extension>"
    title: str
    extension: str = "zip"
    content_type: str = "application/zip"
    format: str = "as one zip file"


def _fhir_bundle(patient) -> bytes:
    # The patient's own copy keeps every note; a clinic's export leaves private ones out.
    bundle = fhir.patient_bundle(patient, now=timezone.now(), include_private_notes=True)
    return json.dumps(bundle, cls=DjangoJSONEncoder).encode()


DOWNLOADS = {
    "everything": Download(
        exports.account_export_zip, "ldn-tracker-all-my-data", "Everything we hold about you"
    ),
    "diary": Download(
        symptom_exports.patient_export_zip, "ldn-tracker-export", "Your diary and doses (CSV)"
    ),
    "fhir": Download(
        _fhir_bundle,
        "ldn-tracker-fhir",
        "Your record for a clinic's system (FHIR)",
        extension="json",
        content_type="application/fhir+json",
        format="as one FHIR file",
    ),
}


def download_grant(session, kind: str) -> None:
    grants = dict(session.get(GRANTS_KEY) or {})
    grants[kind] = time.time()
    session[GRANTS_KEY] = grants


def download_granted(session, kind: str) -> bool:
    granted_at = (session.get(GRANTS_KEY) or {}).get(kind)
    return granted_at is not None and time.time() - granted_at < GRANT_SECONDS

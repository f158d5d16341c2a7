"""The opioid block (DOMAIN.md, dose safety): pure, from a patient's screenings.

A reported opioid use blocks the plan until a linked clinician clears it. A patient with no
linked clinician can clear it only by answering again at least 7 days later, stating no
opioid in the last 7 days (10 for methadone or buprenorphine) and that their prescriber knows.
"""

import datetime as dt

OPIOID_FREE_DAYS = 7  # naltrexone labelling: opioid-free 7-10 days before starting


def open_opioid_report(screenings, *, patient_may_clear: bool = True):
    """The opioid report that still blocks the plan, or None.

    `screenings` in the order they were answered; each has `opioid_use`,
    `opioid_free_confirmed`, `cleared_at` and `created_at`. A clinician's clearance lifts a
    report; the patient's own later answer lifts it only when `patient_may_clear` (no linked
    clinician), 7 days on, with the opioid-free statement. Answering "no" a minute later
    lifts nothing.
    """
    report = None
    for screening in screenings:
        if screening.opioid_use:
            report = None if screening.cleared_at else screening
        elif (
            report is not None
            and patient_may_clear
            and screening.opioid_free_confirmed
            and screening.created_at >= patient_clear_from(report)
        ):
            report = None
    return report


def patient_clear_from(report) -> dt.datetime:
    """From when a patient with no linked clinician may lift this report themselves."""
    return report.created_at + dt.timedelta(days=OPIOID_FREE_DAYS)

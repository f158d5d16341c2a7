from functools import wraps

from django.shortcuts import redirect

from accounts.access import patient_required

from . import selectors


def plan_required(view):
    """A patient page that needs the patient's current plan: it is passed to the view.

    A patient who has not finished setting up is sent to onboarding; anyone who is not a
    patient gets a 404 (from patient_required).
    """

    @patient_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        plan = selectors.current_plan(request.user)
        if plan is None:
            return redirect("onboarding")
        return view(request, plan, *args, **kwargs)

    return wrapper

"""Who may see what. Views fetch through these; anything a user may not see is a 404."""

from functools import wraps

from django.http import Http404


def patient_required(view):
    """Patient pages are for patients; to anyone else they do not exist."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_authenticated and request.user.is_patient):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper

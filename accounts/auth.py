def axes_username(request, credentials):
    """The account name axes counts failures against.

    allauth authenticates with `email=` rather than `username=`, and its form field is
    `login`, so axes' default lookup would see no name and lock by address alone.
    """
    credentials = credentials or {}
    name = credentials.get("email") or credentials.get("username")
    if not name and request is not None:
        name = request.POST.get("login") or request.POST.get("email")
    return (name or "").strip().lower()

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


def axes_client_str(username, ip_address, user_agent, path_info, request):
    """How axes names a client in its log lines: the address only. Its default adds the
    login name, which is an email address, and log lines never hold one."""
    return f"address {ip_address}"

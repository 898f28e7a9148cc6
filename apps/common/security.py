"""Security plumbing: the Content-Security-Policy middleware, the NUL-character guard, and
personal-data masking for lists and logs (login lockout is in `apps.common.lockout`; this module
is imported by LOGGING, before the apps are loaded, so it imports no models).

Personal data: a caller's phone number and an ID-card number are shown in full only to the roles
that need them (see `mask_phone`, `apps.common.roles.can_see_id_numbers` and the README's Security
section); log records never carry them (`PersonalDataFilter`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse, QueryDict
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

# --- Content-Security-Policy ------------------------------------------------------------------


class CadCSPMiddleware(CSPMiddleware):
    """django-csp's middleware with two additions:

    - connect-src gets the page's own websocket origins (ws:// and wss:// of the request's host):
      CSP level 2 browsers do not count them as 'self';
    - below a prefix of `CSP_RELAXED_PREFIXES` that entry's directives replace the policy's
      (pages with inline scripts we do not render with a nonce, see the README).
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except Exception:  # a disallowed host: Django answers 400, the policy stays as it is
            host = ""
        if host:
            update = dict(parts.update or {})
            update["connect-src"] = [f"ws://{host}", f"wss://{host}"]
            parts.update = update
        for prefix, directives in getattr(settings, "CSP_RELAXED_PREFIXES", {}).items():
            if request.path.startswith(prefix):
                replace = dict(parts.replace or {})
                replace.update({name: list(srcs) for name, srcs in directives.items()})
                parts.replace = replace
                # A nonce in script-src would make browsers ignore 'unsafe-inline'.
                parts.nonce = None
                break
        return parts


# --- NUL characters ---------------------------------------------------------------------------

# The bodies request.POST parses (the admin's forms); JSON bodies go through DRF's CharField,
# which refuses NUL itself.
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(values: QueryDict) -> bool:
    return any("\x00" in key or any("\x00" in v for v in vals) for key, vals in values.lists())


class RejectNulMiddleware:
    """Answer 400 to a request with a NUL character in a query-string or form key or value.

    PostgreSQL text cannot hold NUL: `?status__exact=%00` on an admin list (or any filter or form
    field that reaches a query) raised ValueError, a 500. No legitimate input carries NUL, so it
    is refused here once, before any view or admin filter sees it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if _has_nul(request.GET) or (
            request.method == "POST"
            and request.content_type in FORM_CONTENT_TYPES
            and _has_nul(request.POST)
        ):
            message = _("The request contains a NUL character.")
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message, "code": "bad_request"}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


# --- Personal data ------------------------------------------------------------------------------

# Mainland mobile numbers (11 digits starting 1[3-9]) and resident ID numbers (17 digits and a
# check character), not inside longer digit runs (incident numbers, timestamps).
MOBILE_RE = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")
ID_CARD_RE = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")


def mask_phone(phone: str) -> str:
    """138****0000; other numbers keep their first 3 and last 4 characters."""
    if not phone:
        return phone
    digits = sum(c.isdigit() for c in phone)
    if digits < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_personal_data(text: str) -> str:
    """Masks mobile numbers and ID-card numbers in free text (log messages)."""
    text = ID_CARD_RE.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return MOBILE_RE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


class PersonalDataFilter(logging.Filter):
    """Masks phone and ID-card numbers in every log record (installed in LOGGING's handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave the record to the handler's error path
            return True
        masked = mask_personal_data(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            # Exception texts may quote input too.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = mask_personal_data(text)
        return True

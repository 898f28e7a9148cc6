"""Security plumbing: the client address behind trusted proxies, the Content-Security-Policy
middleware, the NUL-character guard, and personal-data masking for lists and logs (login
lockout is in `apps.common.lockout`; this module is imported by LOGGING, before the apps are
loaded, so it imports no models).

Personal data: a caller's phone number and an ID-card number are shown in full only to the roles
that need them (see `mask_phone`, `apps.common.roles.can_see_id_numbers` and the README's Security
section); log records never carry them (`PersonalDataFilter`).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse, QueryDict
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

# --- The client's address -----------------------------------------------------------------------

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# In TRUSTED_PROXIES: the peer of daphne's unix socket (it has no address; only the proxy that
# can open the socket file connects there).
UNIX_SOCKET_PEER = "unix"


def parse_trusted_proxies(values: list[str]) -> list[IPNetwork | str]:
    """TRUSTED_PROXIES entries: addresses or networks (10.0.0.0/8), or `unix`. A bad entry
    raises ValueError (the settings turn it into a failed start)."""
    parsed: list[IPNetwork | str] = []
    for value in values:
        if value == UNIX_SOCKET_PEER:
            parsed.append(value)
        else:
            parsed.append(ipaddress.ip_network(value, strict=False))
    return parsed


@functools.lru_cache(maxsize=4)
def _proxies(values: tuple[str, ...]) -> list[IPNetwork | str]:
    return parse_trusted_proxies(list(values))


def _trusted(address: str | None, proxies: list[IPNetwork | str]) -> bool:
    if not address:
        return UNIX_SOCKET_PEER in proxies
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(not isinstance(p, str) and ip in p for p in proxies)


def client_address(
    peer: str | None, forwarded_for: str, proxies: list[IPNetwork | str]
) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
    address in X-Forwarded-For (read from the right) that is not a trusted proxy.

    Hops left of an untrusted one were written by the client and are never believed, so a
    client rotating the header stays at its own address.
    """
    address = peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    while hops and _trusted(address, proxies):
        hop = hops.pop()
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            break  # not an address: stop at the last proxy we trust
    return address


class TrustedProxyMiddleware:
    """Sets REMOTE_ADDR to the client's address (`client_address`) for everything after it: the
    login lockout counts failures per address.

    Run daphne *without* `--proxy-headers`: that flag takes X-Forwarded-For from any peer, so a
    client rotating the header escaped the lockout. With TRUSTED_PROXIES empty (the default)
    the header is ignored.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        proxies = _proxies(tuple(settings.TRUSTED_PROXIES))
        if proxies:
            forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
            address = client_address(request.META.get("REMOTE_ADDR"), forwarded, proxies)
            if address:
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)


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

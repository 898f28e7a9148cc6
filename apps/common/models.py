from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the API and websockets. Only its SHA-256 is stored.

    Tokens expire (API_TOKEN_TTL_HOURS) and can be revoked one by one or all at once for a
    user, e.g. when a phone is lost.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    # First characters of the key, so a commander can tell tokens apart without the secret.
    prefix = models.CharField(_("prefix"), max_length=8)
    label = models.CharField(_("device"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [
            # "active tokens of a user" (revocation, admin list)
            models.Index(fields=["user", "revoked_at"], name="apitoken_user_active"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @staticmethod
    def new_key() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def default_expiry() -> timedelta:
        return timedelta(hours=settings.API_TOKEN_TTL_HOURS)


class DailySequence(models.Model):
    """Per-day counters, e.g. for incident numbers (110-YYYYMMDD-NNNN). Rows are locked to count."""

    name = models.CharField(max_length=32)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "day"], name="dailysequence_name_day_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.day}: {self.last}"


class NoticeCursor(models.Model):
    """The last sequence number issued to an audience. Locked to append a notice."""

    audience = models.CharField(max_length=40, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.audience}@{self.last_seq}"


class Notice(models.Model):
    """A message a websocket client must not miss, numbered per audience.

    Audiences: "command" (commanders and dispatchers) and "unit:<id>" (one patrol unit's crew).
    A reconnecting client sends the last sequence number it saw and receives what it missed, or a
    snapshot when the gap is larger than NOTICE_CATCHUP_MAX or older than the retention window.
    """

    audience = models.CharField(max_length=40)
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audience", "seq"], name="notice_audience_seq_uniq")
        ]
        indexes = [
            # pruning old notices
            models.Index(fields=["created_at"], name="notice_created"),
        ]

    def __str__(self) -> str:
        return f"{self.audience}#{self.seq} {self.type}"


class IdempotencyRecord(models.Model):
    """The stored answer to a POST made with an `Idempotency-Key` header (apps.common.idempotency).

    The patrol app queues actions taken offline and replays them when the network returns; a
    replay whose first attempt did reach the server gets this stored answer instead of applying
    the action twice. Rows are per user: one crew member's key never answers another's request.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    key = models.CharField(_("idempotency key"), max_length=100)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=300)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    body = models.JSONField(_("body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_uniq"),
        ]
        indexes = [
            # pruning old records (idempotency_prune)
            models.Index(fields=["created_at"], name="idempotency_created"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} → {self.status_code}"


class AccessLog(models.Model):
    """Who saw a piece of personal data in full, and when (e.g. a caller's unmasked phone).

    Append-only: written by `access_log_record`, read by commanders in the admin.
    """

    class Action(models.TextChoices):
        CALLER_RECORD_VIEWED = "caller_record_viewed", _("caller record viewed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    action = models.CharField(_("action"), max_length=40, choices=Action.choices)
    # "<app_label>.<model>:<pk>", e.g. "incidents.incident:42"
    target = models.CharField(_("record"), max_length=80)
    via = models.CharField(_("via"), max_length=200, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [
            # "who looked at this record" (admin search by record)
            models.Index(fields=["target", "at"], name="accesslog_target_at"),
            # "what did this user look at"
            models.Index(fields=["user", "at"], name="accesslog_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.target} {self.at:%Y-%m-%d %H:%M}"

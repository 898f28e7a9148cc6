"""JSON input with a bound on nesting: the API's parser and the websockets' frame reader.

Python's JSON decoder recurses once per nesting level: a 2 KB body of `[` × 1000 raised
RecursionError (a 500), and anything that walks such a value afterwards (serializers, logging)
would recurse as deep. No input of ours nests more than a few levels, so a document nested deeper
than `MAX_JSON_DEPTH` is refused before it is decoded, by a scan that does not recurse.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

# Deeper than any request body or websocket frame we take (the deepest, an incident intake, is 2).
MAX_JSON_DEPTH = 32

# A JSON string (skipped whole: brackets inside it do not count) or one bracket.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(
            _("JSON nested deeper than %(limit)d levels is refused.") % {"limit": limit}
        )


def check_json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise JSONTooDeep if `text` opens more than `limit` arrays or objects inside each other.

    Linear in the length of `text` and without recursion, so it is safe on any input; brackets
    inside strings are skipped, and malformed text is left for the decoder to refuse.
    """
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > limit:
                raise JSONTooDeep(limit)
        elif char in "]}":
            depth -= 1


def json_loads_bounded(text: str, limit: int = MAX_JSON_DEPTH) -> Any:
    """json.loads that refuses NaN/Infinity and nesting deeper than `limit` (ValueError)."""
    check_json_depth(text, limit)
    return json.loads(text, parse_constant=strict_constant)


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the nesting bound (DEFAULT_PARSER_CLASSES): a body nested too deep
    is a 400 with a message, as any other malformed body is."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            check_json_depth(text)
            parse_constant = strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except JSONTooDeep as exc:
            raise ParseError(str(exc)) from exc
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc

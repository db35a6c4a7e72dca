"""Reading untrusted JSON: every field is checked for type and range before anything is
written, so that bad input is a 400 that changes nothing."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

from .errors import InvalidInput
from .timeutil import parse_instant

_MISSING = object()


class Fields:
    """A JSON object with typed, bounded accessors that name the offending field."""

    def __init__(self, data: object, where: str = "body") -> None:
        if not isinstance(data, dict):
            raise InvalidInput(f"{where} must be a JSON object", field=where)
        self.data: dict[str, Any] = data
        self.where = where

    def _name(self, name: str) -> str:
        return name if self.where == "body" else f"{self.where}.{name}"

    def has(self, name: str) -> bool:
        return name in self.data

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise InvalidInput(f"{self._name(name)} is required", field=self._name(name))
            return _MISSING
        return value

    def string(self, name: str, *, required: bool = True, max_len: int = 200, min_len: int = 1,
               default: str | None = None, strip: bool = True) -> str | None:
        """A string of `min_len` to `max_len` characters as sent, not all blank unless it may be
        empty; kept without its surrounding whitespace unless `strip` is off (passwords)."""
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            raise InvalidInput(f"{self._name(name)} must be a string", field=self._name(name))
        if not min_len <= len(value) <= max_len or (min_len and not value.strip()):
            raise InvalidInput(f"{self._name(name)} must be {min_len} to {max_len} characters, not all blank",
                               field=self._name(name))
        return value.strip() if strip else value

    def choice(self, name: str, options: tuple[str, ...], *, required: bool = True,
               default: str | None = None) -> str | None:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        if value not in options:
            raise InvalidInput(f"{self._name(name)} must be one of {', '.join(options)}",
                               field=self._name(name))
        return value

    def integer(self, name: str, *, minimum: int, maximum: int, required: bool = True,
                default: int | None = None) -> int | None:
        value = self._get(name, required)
        if value is _MISSING:
            return default
        # bool is an int subclass, and a float with a fraction would silently truncate money: refuse
        # both. 3.0 is the integer 3 to JSON (and to JSON Schema).
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{self._name(name)} must be an integer", field=self._name(name))
        if not minimum <= value <= maximum:
            raise InvalidInput(f"{self._name(name)} must be between {minimum} and {maximum}",
                               field=self._name(name))
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self._get(name, False)
        if value is _MISSING:
            return default
        if not isinstance(value, bool):
            raise InvalidInput(f"{self._name(name)} must be true or false", field=self._name(name))
        return value

    def instant(self, name: str, *, required: bool = True) -> datetime | None:
        value = self._get(name, required)
        if value is _MISSING:
            return None
        return parse_instant(value, self._name(name))

    def obj(self, name: str, *, required: bool = True) -> "Fields | None":
        value = self._get(name, required)
        if value is _MISSING:
            return None
        return Fields(value, self._name(name))

    def items(self, name: str, *, max_items: int, min_items: int = 0,
              required: bool = True) -> list[Any]:
        value = self._get(name, required)
        if value is _MISSING:
            return []
        if not isinstance(value, list):
            raise InvalidInput(f"{self._name(name)} must be a list", field=self._name(name))
        if not min_items <= len(value) <= max_items:
            raise InvalidInput(f"{self._name(name)} must have {min_items} to {max_items} entries",
                               field=self._name(name))
        return value

    def objects(self, name: str, *, max_items: int, min_items: int = 0,
                required: bool = True) -> Iterator["Fields"]:
        for index, value in enumerate(self.items(name, max_items=max_items, min_items=min_items,
                                                 required=required)):
            yield Fields(value, f"{self._name(name)}[{index}]")

    def strings(self, name: str, *, max_items: int, max_len: int, required: bool = False) -> list[str]:
        values = self.items(name, max_items=max_items, required=required)
        result = []
        for index, value in enumerate(values):
            if not isinstance(value, str) or not value.strip() or len(value) > max_len:
                raise InvalidInput(f"{self._name(name)}[{index}] must be a string of 1 to {max_len} "
                                   "characters", field=self._name(name))
            result.append(value.strip())
        return result

    def string_map(self, name: str, *, max_items: int, max_len: int) -> dict[str, str]:
        value = self._get(name, False)
        if value is _MISSING:
            return {}
        if not isinstance(value, dict) or len(value) > max_items:
            raise InvalidInput(f"{self._name(name)} must be an object of at most {max_items} entries",
                               field=self._name(name))
        for key, item in value.items():
            if not (isinstance(item, str) and 1 <= len(key) <= max_len and len(item) <= max_len):
                raise InvalidInput(f"{self._name(name)} values must be strings of at most {max_len} "
                                   "characters", field=self._name(name))
        return dict(value)

    def only(self, allowed: set[str]) -> None:
        unknown = sorted(set(self.data) - allowed)
        if unknown:
            raise InvalidInput(f"{self.where} has fields that cannot be set here: {', '.join(unknown)}",
                               fields=unknown)

"""Dataclasses to JSON-ready values and back, guided by the dataclasses' own type hints (stdlib only).

The codec behind typed job requests (`backend.job_requests`, encoded and decoded in `backend.protocol`):
`to_json_value` turns a dataclass into dicts, lists, strings and numbers; `from_json_value` rebuilds
it from what `json.loads` gives, checking every field against its annotation, so a request is
decoded in one place and the code that uses it reads attributes, never dict keys.

>>> from dataclasses import dataclass
>>> @dataclass
... class Point:
...     x: float
...     label: str | None = None
>>> to_json_value(Point(1.5))
{'x': 1.5, 'label': None}
>>> from_json_value(Point, {"x": 2})
Point(x=2.0, label=None)
>>> from_json_value(Point, {"x": 1, "y": 2})
Traceback (most recent call last):
...
backend.typed_json.TypedJsonError: Point: unknown field(s) ['y']; known: ['label', 'x']
"""

from __future__ import annotations

import types
from dataclasses import MISSING, fields, is_dataclass
from datetime import datetime
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints


class TypedJsonError(ValueError):
    """A JSON value that does not fit the type it is read as; the message names the field path."""


def to_json_value(value: Any) -> Any:
    """Dataclasses become dicts of their fields, tuples lists, datetimes ISO strings; the rest as is."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json_value(getattr(value, f.name)) for f in fields(value) if f.init}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json_value(item) for key, item in value.items()}
    return value


def from_json_value(hint: Any, value: Any, where: str = "") -> Any:
    """`value` (as json.loads gives it) read as type `hint`; TypedJsonError says where it does not fit."""
    where = where or getattr(hint, "__name__", str(hint))
    origin = get_origin(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        return _from_union(get_args(hint), value, where)
    if origin is Literal:
        if value not in get_args(hint):
            raise TypedJsonError(f"{where}: {value!r} is not one of {list(get_args(hint))}")
        return value
    if origin is list or origin is tuple:
        _expect(isinstance(value, list), where, "a list", value)
        args = get_args(hint)
        item_hint = args[0] if args else Any
        items = [from_json_value(item_hint, item, f"{where}[{i}]") for i, item in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        _expect(isinstance(value, dict), where, "an object", value)
        value_hint = get_args(hint)[1] if get_args(hint) else Any
        return {key: from_json_value(value_hint, item, f"{where}[{key!r}]") for key, item in value.items()}
    if is_dataclass(hint):
        return _from_dataclass(hint, value, where)
    if hint is datetime:
        _expect(isinstance(value, str), where, "an ISO date-time string", value)
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise TypedJsonError(f"{where}: {value!r} is not an ISO date-time") from None
    if hint is float:
        _expect(isinstance(value, int | float) and not isinstance(value, bool), where, "a number", value)
        return float(value)
    if hint is int:
        _expect(isinstance(value, int) and not isinstance(value, bool), where, "an integer", value)
        return value
    if hint in (str, bool):
        _expect(isinstance(value, hint), where, f"a {hint.__name__}", value)
        return value
    return value


def _expect(ok: bool, where: str, what: str, value: Any) -> None:
    if not ok:
        raise TypedJsonError(f"{where}: expected {what}, got {type(value).__name__} {str(value)[:80]!r}")


def _from_union(options: tuple[Any, ...], value: Any, where: str) -> Any:
    if value is None and type(None) in options:
        return None
    errors = []
    for option in (o for o in options if o is not type(None)):
        try:
            return from_json_value(option, value, where)
        except TypedJsonError as exc:
            errors.append(str(exc))
    raise TypedJsonError(errors[0] if len(errors) == 1 else f"{where}: fits none of {options}: {errors}")


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)  # resolves the string annotations of `from __future__`
    return _HINTS[cls]


def _from_dataclass(cls: type, value: Any, where: str) -> Any:
    _expect(isinstance(value, dict), where, f"an object of {cls.__name__} fields", value)
    known = {f.name: f for f in fields(cls) if f.init}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise TypedJsonError(f"{where}: unknown field(s) {unknown}; known: {sorted(known)}")
    missing = sorted(name for name, f in known.items()
                     if name not in value and f.default is MISSING and f.default_factory is MISSING)
    if missing:
        raise TypedJsonError(f"{where}: missing field(s) {missing}")
    hints = _hints(cls)
    kwargs = {name: from_json_value(hints[name], item, f"{where}.{name}") for name, item in value.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:  # a config's own check, e.g. "top_p must be in (0, 1]"
        raise TypedJsonError(f"{where}: {exc}") from None


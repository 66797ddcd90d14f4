"""Problems found in input files, and their translation from pydantic errors.

Every problem prints as `<file>: <field>: <what is wrong> (<what is allowed>)` so that a
platform engineer can fix a tenant file without reading this code.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

# The field of a problem that concerns the whole file rather than one key.
WHOLE_FILE = "file"


# A key or value can be as long as a file (64 KiB). A problem cuts each run of more than
# LONG_RUN characters without a space to LONG_RUN_SHOWN, and keeps to MAX_LINE in all.
LONG_RUN = 200
LONG_RUN_SHOWN = 60
MAX_LINE = 1000
# Characters kept from the end of a cut line, because messages end with what is allowed.
MAX_LINE_END = 295
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN + 1},}}")


def shorten(text: str) -> str:
    """Cut long runs of `text`, and its middle when it is still too long for one line."""
    text = _LONG_RUN.sub(lambda match: match.group()[:LONG_RUN_SHOWN] + "...", text)
    if len(text) > MAX_LINE:
        gap = " ... "
        text = text[: MAX_LINE - len(gap) - MAX_LINE_END] + gap + text[-MAX_LINE_END:]
    return text


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file."""

    file: str
    field: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "field", shorten(self.field))
        object.__setattr__(self, "message", shorten(self.message))

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


class InvalidInput(Exception):
    """Raised when input files have problems; carries all of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = tuple(problems)


def field_path(loc: Iterable[int | str]) -> str:
    """Join a pydantic location into the dotted form of the YAML file (`a.b[0]`)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not part or not part.isprintable() or part != part.strip():
            # Keys with control characters or edge spaces print quoted, on one line.
            path += f"[{part!r}]"
        else:
            path += f".{part}" if path else part
    return path


def describe_value(value: Any) -> str:
    """Name a YAML value and its type the way YAML users think of them."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bytes):
        return "binary data"
    return f"a {type(value).__name__}"


def _allowed_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """Return the keys allowed in the mapping at `loc` of `model`."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or isinstance(part, int):
            return []
        match = next(
            (info for info in current.model_fields.values() if info.alias == part),
            None,
        )
        annotation = match.annotation if match else None
        current = _model_in(annotation)
    if current is None:
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


# A function that returns the source text of the scalar at a location, when YAML read
# that scalar as something other than a string (`no` as false, `0123` as 83).
SourceLookup = Callable[[Sequence[int | str]], str | None]

_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "float_type": "a number",
}


def translate(
    error: ValidationError,
    *,
    file: str,
    model: type[BaseModel],
    source: SourceLookup | None = None,
    loc_prefix: Sequence[str] = (),
    rename: Callable[[Sequence[int | str]], Sequence[int | str]] | None = None,
) -> list[Problem]:
    """Turn a pydantic error into problems that name the file, the field and the fix."""
    problems: list[Problem] = []
    for detail in error.errors(include_url=False):
        # Pydantic marks a bad dict key with a trailing "[key]"; the key itself names it.
        loc = tuple(part for part in detail["loc"] if part != "[key]")
        shown_loc = tuple(rename(loc)) if rename else loc
        field = field_path((*loc_prefix, *shown_loc)) or WHOLE_FILE
        message = _message(detail, model=model, loc=loc, source=source)
        problems.append(Problem(file, field, message))
    return problems


def _message(
    detail: Any,
    *,
    model: type[BaseModel],
    loc: tuple[int | str, ...],
    source: SourceLookup | None,
) -> str:
    kind: str = detail["type"]
    value = detail.get("input")
    context = detail.get("ctx") or {}

    if kind == "missing":
        return "missing (a required field)"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        name = str(loc[-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        return f"unknown field ({hint}allowed here: {', '.join(allowed)})"
    if kind == "value_error":
        return str(context.get("error", detail["msg"]))
    if kind in ("enum", "literal_error"):
        return f"{describe_value(value)} is not allowed (one of: {_choices(context)})"
    if kind in _EXPECTED:
        expected = _EXPECTED[kind]
        text = source(loc) if source else None
        if kind == "string_type" and text == "":
            return (
                f"an empty value, which YAML reads as {describe_value(value)} "
                "(a string: write it in quotes)"
            )
        if kind == "string_type" and text is not None and not isinstance(value, list | dict):
            return (
                f"YAML reads {text} as {describe_value(value)} "
                f'(a string: write it in quotes, "{text}")'
            )
        if isinstance(value, str) and kind in ("int_type", "float_type", "bool_type"):
            return f"expected {expected}, got {describe_value(value)} ({expected}, without quotes)"
        return f"expected {expected}, got {describe_value(value)} ({expected})"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {
            "greater_than_equal": f"at least {context.get('ge')}",
            "greater_than": f"more than {context.get('gt')}",
            "less_than_equal": f"at most {context.get('le')}",
            "less_than": f"less than {context.get('lt')}",
        }[kind]
        return f"{value} is out of range ({bound})"
    if kind in ("too_short", "too_long"):
        count = len(value) if hasattr(value, "__len__") else "?"
        if kind == "too_short":
            return f"has {count} items (at least {context.get('min_length')})"
        return f"has {count} items (at most {context.get('max_length')})"
    return f"{detail['msg']} (see schemas/tenant.schema.json)"


def _choices(context: dict[str, Any]) -> str:
    expected = str(context.get("expected", ""))
    return expected.replace("'", "").replace(" or ", ", ")

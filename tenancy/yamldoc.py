"""Strict reading of small YAML mappings: tenant files and stack configs.

PyYAML alone is too forgiving for files that decide who can reach what: it keeps the
last of two duplicate keys, and it resolves anchors and aliases without a size limit.
This module composes the node tree first, rejects what a reviewer could misread, then
constructs the values from that same tree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tenancy.problems import WHOLE_FILE, Problem, field_path

MAX_FILE_BYTES = 64 * 1024
MAX_DEPTH = 16

# libyaml's parser is much faster than the pure-Python one; both build the same nodes.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """Safe loader that skips merge-key handling: `_check_tree` rejects merge keys first."""

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        del node


class YamlProblem(Exception):
    """Raised when a file cannot be read as one strict YAML mapping."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def at(self, file: str) -> Problem:
        return Problem(file, self.field, self.message)


@dataclass(frozen=True)
class Document:
    """A YAML mapping with its node tree, to look up how a value was written."""

    data: dict[str, Any]
    root: yaml.MappingNode

    def source_text(self, loc: Sequence[int | str]) -> str | None:
        """Return the text of the scalar at `loc` when YAML resolved it to a non-string."""
        node: yaml.Node = self.root
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == part), None)  # type: ignore[assignment]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                node = node.value[part] if part < len(node.value) else None  # type: ignore[assignment]
            else:
                return None
            if node is None:
                return None
        if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:str":
            return str(node.value)
        return None


def read_file(path: Path) -> Document:
    """Read `path` as one YAML mapping of at most MAX_FILE_BYTES."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise YamlProblem(
            WHOLE_FILE, f"cannot be read: {error.strerror} (a readable file)"
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise YamlProblem(
            WHOLE_FILE, f"larger than {MAX_FILE_BYTES // 1024} KiB (a tenant file is a few lines)"
        )
    return parse(raw)


def parse(raw: bytes) -> Document:
    """Parse `raw` as one strict YAML mapping."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise YamlProblem(
            WHOLE_FILE, f"not UTF-8 text (byte {error.start} is invalid; save the file as UTF-8)"
        ) from None
    loader = _Loader(text)
    try:
        # Anchors and aliases are rare, so only texts with their marks pay for the scan.
        if "&" in text or "*" in text:
            _reject_anchors(text)
        root = loader.get_single_node()
        if root is None:
            raise YamlProblem(WHOLE_FILE, "empty (a YAML mapping of tenant fields)")
        if not isinstance(root, yaml.MappingNode):
            raise YamlProblem(
                WHOLE_FILE,
                f"the document is a {_kind(root)}, not a mapping (a YAML mapping of fields)",
            )
        _check_tree(root)
        data = _construct(loader, root)
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise YamlProblem(
            f"line {line}", "invalid YAML: contains a control character (printable text only)"
        ) from None
    except yaml.MarkedYAMLError as error:
        raise YamlProblem(_line_of(error), f"invalid YAML: {_reason(error)} (valid YAML)") from None
    except yaml.YAMLError as error:
        reason = " ".join(str(error).split())
        raise YamlProblem(WHOLE_FILE, f"invalid YAML: {reason} (valid YAML)") from None
    finally:
        loader.dispose()
    return Document(data=data, root=root)


def _reject_anchors(text: str) -> None:
    """Reject the first anchor or alias, at the line where it is written."""
    for event in yaml.parse(text, Loader=_BaseLoader):
        anchor = getattr(event, "anchor", None)
        if anchor is None:
            continue
        kind = "alias *" if isinstance(event, yaml.AliasEvent) else "anchor &"
        where = f"line {event.start_mark.line + 1}" if event.start_mark else WHOLE_FILE
        raise YamlProblem(
            where,
            f"YAML {kind}{anchor} (write the value out; anchors and aliases are not supported)",
        )


# YAML 1.1 reads other forms than decimals as numbers: 010 is octal 8, 0x1F is 31, 1:30
# is sexagesimal 90, 1_000 is 1000 and 1:30.5 is 90.5. Only plain decimals are accepted.
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
# Longer text is cut in messages, so that one value cannot flood the output.
_SHOWN_CHARS = 40
# Constructors of tagged values fail with these on text that does not fit the tag, such
# as `!!bool maybe`, `2024-02-30` or an integer of more than 4,300 digits.
_CONSTRUCTOR_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError)
_TAG_KINDS = {
    _INT_TAG: "an integer",
    _FLOAT_TAG: "a number",
    "tag:yaml.org,2002:bool": "a boolean",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:binary": "a base64 value",
}


def _for_message(text: str) -> str:
    """Return `text` as a message shows it: quoted when it is cut or not plainly printable."""
    if len(text) > _SHOWN_CHARS:
        return repr(text[:_SHOWN_CHARS] + "...")
    if text and text.isprintable() and text.strip() == text:
        return text
    return repr(text)


def _invalid_value(node: yaml.Node, loc: tuple[int | str, ...]) -> YamlProblem:
    kind = _TAG_KINDS.get(node.tag, f"a value of tag {node.tag}")
    text = str(node.value) if isinstance(node, yaml.ScalarNode) else "this value"
    return YamlProblem(
        field_path(loc) or WHOLE_FILE,
        f"YAML reads {_for_message(text)} as {kind}, but it is not a valid one "
        "(correct the value, or put it in quotes for text)",
    )


def _check_number(node: yaml.ScalarNode, loc: tuple[int | str, ...]) -> None:
    text = str(node.value)
    is_int = node.tag == _INT_TAG
    if is_int and _PLAIN_INT.fullmatch(text):
        return
    if not is_int and _PLAIN_FLOAT.fullmatch(text) and math.isfinite(float(text)):
        return
    constructor = yaml.constructor.SafeConstructor()
    try:
        value: float = (
            constructor.construct_yaml_int(node)
            if is_int
            else constructor.construct_yaml_float(node)
        )
    except _CONSTRUCTOR_ERRORS:
        raise _invalid_value(node, loc) from None
    display = _for_message(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise YamlProblem(field_path(loc) or WHOLE_FILE, f"{display} is not a finite number")
    try:
        written = str(value)
    except ValueError:  # Python writes no integer of more than 4,300 digits
        written = ""
    if not written or len(written) > _SHOWN_CHARS:
        raise YamlProblem(
            field_path(loc) or WHOLE_FILE,
            f"YAML 1.1 reads {display} as a number of more than {_SHOWN_CHARS} digits "
            "(write a plain decimal number)",
        )
    quoted = display if display.startswith("'") else f'"{text}"'
    raise YamlProblem(
        field_path(loc) or WHOLE_FILE,
        f"YAML 1.1 reads {display} as the number {written} (write {written} for that number, "
        f"or {quoted} in quotes for text)",
    )


def _check_tree(root: yaml.MappingNode) -> None:
    """Reject duplicate keys, aliases, merge keys and non-string keys anywhere in the tree."""
    seen: set[int] = set()
    # Locations stay tuples until a problem needs one as text: joining them for every key
    # costs a tenth of `tenantctl check` over thousands of files.
    stack: list[tuple[yaml.Node, tuple[int | str, ...]]] = [(root, ())]
    while stack:
        node, loc = stack.pop()
        if id(node) in seen:
            # `_reject_anchors` stops aliases first; this guards the walk all the same.
            raise YamlProblem(field_path(loc) or WHOLE_FILE, "YAML alias (write the value out)")
        seen.add(id(node))
        if len(loc) >= MAX_DEPTH:
            raise YamlProblem(
                field_path(loc), f"nested deeper than {MAX_DEPTH} levels (a tenant file)"
            )
        if isinstance(node, yaml.ScalarNode) and node.tag in (_INT_TAG, _FLOAT_TAG):
            _check_number(node, loc)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*loc, index)) for index, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            _check_keys(node, loc)
            stack.extend((value, (*loc, str(key.value))) for key, value in node.value)


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_SET_TAG = "tag:yaml.org,2002:set"


def _construct(loader: yaml.SafeLoader, node: yaml.Node, loc: tuple[int | str, ...] = ()) -> Any:
    """Build the value of a tree that `_check_tree` accepted.

    Strings, mappings and lists are built here. The tree has no aliases, merge keys,
    duplicate keys or keys other than strings, so each is its node's value. Every other
    node, such as a number, a boolean or a date, goes to PyYAML's constructor, which keeps
    the YAML 1.1 rules. Building the common nodes here makes `check` about 20% faster.
    """
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
        return node.value
    if isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG:
        return {
            key.value: _construct(loader, value, (*loc, key.value)) for key, value in node.value
        }
    if isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG:
        return [_construct(loader, item, (*loc, index)) for index, item in enumerate(node.value)]
    if node.tag == _SET_TAG:
        # A set has no order, so a list built from it could change from run to run.
        raise YamlProblem(
            field_path(loc) or WHOLE_FILE, "YAML sets (!!set) are not supported (write a list)"
        )
    try:
        return loader.construct_object(node, deep=True)
    except _CONSTRUCTOR_ERRORS:
        raise _invalid_value(node, loc) from None


def _check_keys(node: yaml.MappingNode, loc: tuple[int | str, ...]) -> None:
    first_line: dict[str, int] = {}
    for key, _ in node.value:
        line = key.start_mark.line + 1
        if isinstance(key, yaml.ScalarNode) and key.value == "<<":
            raise YamlProblem(
                field_path((*loc, "<<")), "YAML merge keys are not supported (write keys out)"
            )
        if not isinstance(key, yaml.ScalarNode) or key.tag != "tag:yaml.org,2002:str":
            raise YamlProblem(
                field_path(loc) or WHOLE_FILE,
                f"key at line {line} is not a plain string (keys such as displayName)",
            )
        name = str(key.value)
        if name in first_line:
            raise YamlProblem(
                field_path((*loc, name)),
                f"duplicate key at line {line}, first at line {first_line[name]} "
                "(each key once; YAML would silently keep the last)",
            )
        first_line[name] = line


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "single value"


def _line_of(error: yaml.MarkedYAMLError) -> str:
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return WHOLE_FILE
    return f"line {mark.line + 1}"


def _reason(error: yaml.MarkedYAMLError) -> str:
    parts = [" ".join(part.split()) for part in (error.context, error.problem) if part]
    return ", ".join(parts) if parts else "cannot be parsed"

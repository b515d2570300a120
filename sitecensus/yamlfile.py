"""Load YAML and remember the line of every key, so that a validation error can name the line."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class ConfigError(Exception):
    """A configuration file is wrong; the message says which file, line and field, and what is expected."""


def load_with_lines(path: Path) -> tuple[Any, dict[tuple, int]]:
    """Return (data, lines): lines maps a key path such as ('units', 3, 'kind') to its 1-based line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: 文件不存在 (file not found)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: 文件不是 UTF-8 编码 ({exc.reason}); 请用 UTF-8 保存") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else "?"
        raise ConfigError(f"{path}:{line}: YAML 格式错误: {exc.problem or exc}") from None
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def _walk(node: yaml.Node, here: tuple, lines: dict[tuple, int]) -> None:
    lines.setdefault(here, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = here + (key.value,)
            lines[path] = key.start_mark.line + 1
            _walk(value, path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, here + (index,), lines)


def line_of(lines: dict[tuple, int], loc: tuple) -> int | str:
    """The line of the deepest known prefix of a pydantic error location."""
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return lines.get((), "?")

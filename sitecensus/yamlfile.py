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
        raise ConfigError(f"{path}: 文件不存在") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: 文件不是 UTF-8 编码；请用 UTF-8 保存（如记事本“另存为”时选择 UTF-8）") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(syntax_error(path, text, exc)) from None
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


# (words in the parser's context or problem, explanation, whether the context's line is the one to fix)
SYNTAX_ERRORS = [
    ("could not find expected ':'", "这一行缺少冒号“:”（应写成“名称: 值”，冒号后空一格）", True),
    ("cannot start any token", "这一行有不能出现在这里的字符（如制表符 Tab）；缩进请用空格，值以 @ ` % 等开头时请加引号", False),
    ("quoted scalar", "引号没有配对：开头有引号，结尾缺少同样的引号", True),
    ("flow sequence", "方括号 [ ] 没有配对，或列表中的项没有用逗号分开", True),
    ("flow mapping", "花括号 { } 没有配对，或其中的项没有用逗号分开", True),
    ("mapping values are not allowed", "这一行多了一个冒号“:”或缩进不对；值里有冒号时请用引号括起来", False),
    ("undefined alias", "以 * 或 & 开头的值在 YAML 中有特殊含义，请用引号括起来", False),
    ("expected '-' indicator", "缩进不对：列表中的各项应以“- ”开头并上下对齐", False),
    ("expected <block end>", "缩进不对：同一级的各项应上下对齐（用空格缩进）", False),
    ("expected key", "缩进不对：同一级的各项应上下对齐（用空格缩进）", False),
]


def syntax_error(path: Path, text: str, exc: yaml.MarkedYAMLError) -> str:
    """A YAML syntax error in Chinese: the file, the line to look at, what is wrong and the line itself."""
    words = f"{exc.context or ''} {exc.problem or ''}"
    explanation, at_context = next(((what, ctx) for key, what, ctx in SYNTAX_ERRORS if key in words),
                                   (f"写法有误（{exc.problem or exc}）", False))
    mark = (exc.context_mark if at_context else None) or exc.problem_mark or exc.context_mark
    if mark is None:
        return f"{path}: YAML 格式错误：{explanation}"
    source = text.splitlines()[mark.line] if mark.line < len(text.splitlines()) else ""
    return f"{path}:{mark.line + 1}: YAML 格式错误：{explanation}\n    第 {mark.line + 1} 行：{source.strip()}"


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

"""The scene table is the map: every scene has handlers, every button a handler, one place moves scenes."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

from shared.bot import callbacks, scenes
from shared.domain.conversation import Scene

ROOT = Path(__file__).resolve().parents[2]


def test_every_scene_has_its_handlers() -> None:
    missing = set(Scene) - set(scenes.SCENES)
    assert not missing, f"scenes without a handler in shared/bot/scenes/__init__.py: {missing}"


def test_every_button_has_a_handler() -> None:
    # "↩ Back" presents the current scene again; a lead card's Mark is the managers' desk's (the runtime
    # answers it in a parent's chat without reaching the scenes, which treat it as stale).
    handled = set(scenes.BUTTONS) | {
        callbacks.AiBack,
        callbacks.Mark,
        callbacks.Forget,
        callbacks.HandoverAsk,  # the conversation's, before the scenes (a manager is called)
        callbacks.HandoverDone,
    }
    assert handled == set(typing.get_args(callbacks.ButtonData))


def test_only_the_table_moves_a_session_between_scenes() -> None:
    """`session.scene = …` appears in one place: `advance` in the table's module."""
    assignments = []
    for path in (ROOT / "shared").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "scene":
                    assignments.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert assignments == [f"shared/bot/scenes/__init__.py:{_advance_line()}"]


def _advance_line() -> int:
    source = (ROOT / "shared/bot/scenes/__init__.py").read_text("utf-8")
    [line] = [i for i, text in enumerate(source.splitlines(), 1) if "session.scene = turn.scene" in text]
    return line

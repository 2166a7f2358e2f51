"""OpenAPI publishes every nested shape as a component named by its class: two different shapes
with one class name overwrite each other, and answers then break their documented schema (the
fuzz run finds it only for the routes it happens to reach). Every handler shape is checked here."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections import defaultdict

from pydantic import BaseModel

import handlers
from server.http import Shape


def _all_subclasses(root: type[BaseModel]) -> list[type[BaseModel]]:
    found, stack = [], [root]
    while stack:
        for child in stack.pop().__subclasses__():
            found.append(child)
            stack.append(child)
    return found


def test_no_two_shapes_publish_under_one_name() -> None:
    for module in pkgutil.walk_packages(handlers.__path__, f"{handlers.__name__}."):
        importlib.import_module(module.name)
    # What `server.http.schema_of` registers: the nested shapes (and enums) of every shape, by name.
    components: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for shape in _all_subclasses(Shape):
        schema = shape.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, nested in schema.get("$defs", {}).items():
            components[name][json.dumps(nested, sort_keys=True)].add(f"{shape.__module__}.{shape.__qualname__}")
    clashes = {
        name: [sorted(users) for users in versions.values()]
        for name, versions in components.items()
        if len(versions) > 1
    }
    assert not clashes, clashes

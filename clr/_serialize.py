"""Plain-data configs of clr's schedules, policies and scale functions (numpy only).

``to_config(obj)`` gives ``{"class_name": ..., "config": {...}}`` with nested clr objects
written the same way, so a saved Keras model can carry a composed schedule (a ``Join`` of
``CyclicPolicy`` phases, say) without clr's core importing Keras. Objects that are not clr's
(a user's own ``scale_fn``) go to ``fallback``, which ``clr.keras`` sets to Keras' own
serializer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ._checks import checked_fields

__all__ = ["to_config", "from_config"]


def _registry() -> dict[str, type]:
    from ._one_cycle import CyclicMomentumPolicy, OneCycleMomentumPolicy, OneCyclePolicy
    from ._policies import CyclicPolicy
    from ._scales import ConstantScale, ExpScale, HalvingScale, SineScale
    from ._schedules import Constant, Exponential, Join, Linear, Offset

    classes = (
        CyclicPolicy,
        OneCyclePolicy,
        OneCycleMomentumPolicy,
        CyclicMomentumPolicy,
        ConstantScale,
        HalvingScale,
        ExpScale,
        SineScale,
        Constant,
        Exponential,
        Linear,
        Join,
        Offset,
    )
    return {cls.__name__: cls for cls in classes}


def to_config(obj: Any, fallback: Callable[[Any], Any] | None = None) -> Any:
    """``obj`` as JSON-able data; clr's dataclasses by their fields, recursively."""
    if isinstance(obj, (list, tuple)):
        return [to_config(item, fallback) for item in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if dataclasses.is_dataclass(obj) and type(obj).__name__ in _registry():
        fields = {
            f.name: to_config(getattr(obj, f.name), fallback) for f in dataclasses.fields(obj)
        }
        return {"class_name": type(obj).__name__, "module": "clr", "config": fields}
    if fallback is not None:
        return fallback(obj)
    raise TypeError(
        f"Cannot save {obj!r}: only clr's schedules, policies and scale functions (or objects a "
        "Keras serializer knows, through clr.keras) can be written to a config."
    )


def from_config(data: Any, fallback: Callable[[Any], Any] | None = None) -> Any:
    """The inverse of :func:`to_config`; every class and key is checked."""
    if isinstance(data, list):
        return tuple(from_config(item, fallback) for item in data)
    if isinstance(data, dict) and data.get("module") == "clr" and "class_name" in data:
        registry = _registry()
        name = data["class_name"]
        if name not in registry:
            raise ValueError(
                f"A config names the clr class {name!r}, which clr does not have; it has "
                f"{sorted(registry)}."
            )
        config = checked_fields(registry[name], data.get("config"))
        return registry[name](**{k: from_config(v, fallback) for k, v in config.items()})
    if isinstance(data, dict) and fallback is not None:
        return fallback(data)
    return data

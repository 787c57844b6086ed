"""Reduce-on-plateau: one framework-neutral state machine, composed with any schedule.

CONTRACT used by every backend adapter (implementation: issue 5):

* ``p = ReduceOnPlateau(mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
  cooldown=0, min_lr=0.0, eps=1e-8)`` is an immutable settings object (validated at construction).
* ``p.initial_state() -> dict`` : the state, primitives only (floats/ints/str), JSON-able, so it
  rides inside torch ``state_dict`` (``weights_only=True``), Keras model files and optax states.
* ``p.update(state, metric, lr) -> dict`` : a new state after one evaluation reporting ``metric``
  (``lr`` is the learning rate currently applied, which torch's ``eps`` rule needs). Pure.
* ``p.apply(value, state, ops=None)`` : the learning rate for schedule value ``value``:
  ``min(value, max(value * state["scale"], min_lr))``. ``value`` may be a float or an array of
  ``ops``'s library.
"""

from __future__ import annotations

from typing import Any


class ReduceOnPlateau:
    """Placeholder until issue 5 lands (see the module docstring for the contract)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("lrkit.ReduceOnPlateau is not implemented yet")

"""PyTorch adapters: lrkit schedules driving ``torch.optim`` optimizers.

* :class:`LRScheduler`: a real ``torch.optim.lr_scheduler.LRScheduler`` that puts
  ``schedule(k)`` into the param groups after ``k`` calls of ``.step()`` (closed form, absolute
  values), optionally composed with :class:`lrkit.ReduceOnPlateau`.
* :class:`HyperparameterScheduler`: the same for any other param-group entry (``momentum``,
  ``weight_decay``, Adam's ``betas`` through ``"beta1"``/``"beta2"``, ...).

Both keep checkpoints to primitives (``torch.load(path, weights_only=True)`` reads them) and resume
exactly. Evaluating a schedule at a tensor (``s(torch.arange(10))``) goes through
``lrkit.backends._torch_ops``.

Example:
  >>> import torch, lrkit as lk
  >>> from lrkit.backends.torch import LRScheduler
  >>> model = torch.nn.Linear(2, 1)
  >>> opt = torch.optim.AdamW(model.parameters(), lr=0.0)
  >>> sched = LRScheduler(opt, lk.warmup(lk.cosine(1e-3, 1e-5, 90), 10))
  >>> opt.param_groups[0]["lr"]  # schedule(0), set by the constructor
  0.0
  >>> for _ in range(10):
  ...     opt.step()
  ...     sched.step()
  >>> sched.get_last_lr()
  [0.001]
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

from lrkit._base import Schedule
from lrkit._errors import BackendUnavailableError
from lrkit._ops import SCALAR_OPS
from lrkit._time import resolve

try:
    import torch
    from torch.optim import Optimizer
    from torch.optim import lr_scheduler as _torch_sched
except ImportError as e:  # pragma: no cover - exercised only without torch
    raise BackendUnavailableError(
        "lrkit.backends.torch needs PyTorch, which is not installed. "
        "Install it with: pip install 'lrkit[torch]'"
    ) from e

__all__ = ["HyperparameterScheduler", "LRScheduler"]

_Tensor = torch.Tensor
_EPOCH_DEPRECATION_WARNING = getattr(
    _torch_sched,
    "EPOCH_DEPRECATION_WARNING",
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated.",
)
_BETAS = {"beta1": 0, "beta2": 1}


# -- argument checks ----------------------------------------------------------------------------


def _check_optimizer(owner: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{owner}: `optimizer` must be a torch.optim.Optimizer. "
            f"Received: optimizer={optimizer!r} of type {type(optimizer).__name__}"
        )
    return optimizer


def _check_schedules(owner: str, schedule: Any, n_groups: int) -> tuple[tuple[Schedule, ...], bool]:
    """``(one schedule per group, whether a single schedule was given)``."""
    if isinstance(schedule, Schedule):
        return (schedule,) * n_groups, True
    if isinstance(schedule, (list, tuple)):
        for i, s in enumerate(schedule):
            if not isinstance(s, Schedule):
                raise TypeError(
                    f"{owner}: `schedule[{i}]` must be an lrkit schedule. "
                    f"Received: schedule[{i}]={s!r} of type {type(s).__name__}"
                )
        if len(schedule) != n_groups:
            raise ValueError(
                f"{owner}: `schedule` must be one schedule, or a list with one schedule per param "
                f"group ({n_groups}). Received: a list of {len(schedule)} schedule(s)"
            )
        return tuple(schedule), False
    raise TypeError(
        f"{owner}: `schedule` must be an lrkit schedule or a list of them, one per param group. "
        f"Received: schedule={schedule!r} of type {type(schedule).__name__}"
    )


def _check_last_epoch(owner: str, last_epoch: Any) -> int:
    if not isinstance(last_epoch, numbers.Integral) or isinstance(last_epoch, bool):
        raise TypeError(
            f"{owner}: `last_epoch` must be an integer >= -1. "
            f"Received: last_epoch={last_epoch!r} of type {type(last_epoch).__name__}"
        )
    if last_epoch < -1:
        raise ValueError(f"{owner}: `last_epoch` must be an integer >= -1. Received: last_epoch={last_epoch!r}")
    return int(last_epoch)


def _check_plateau(owner: str, plateau: Any) -> Any:
    if plateau is None:
        return None
    missing = [m for m in ("initial_state", "update", "apply") if not callable(getattr(plateau, m, None))]
    if missing:
        raise TypeError(
            f"{owner}: `plateau` must be an lrkit.ReduceOnPlateau (or None). "
            f"Received: plateau={plateau!r} of type {type(plateau).__name__}"
        )
    return plateau


def _set_value(group: dict[str, Any], key: str, value: float) -> None:
    """``group[key] = value``; a tensor entry is filled in place (as torch's base scheduler does)."""
    cur = group[key]
    if isinstance(cur, _Tensor):
        cur.fill_(value)
    else:
        group[key] = value


def _copy(v: Any) -> Any:
    return v.clone() if isinstance(v, _Tensor) else v


# -- the shared closed-form machinery -----------------------------------------------------------


class _ClosedFormScheduler(_torch_sched.LRScheduler):
    """A torch scheduler whose value after ``k`` calls of ``.step()`` is ``schedule(k)``.

    Subclasses say where values go (``_write``) and what a checkpoint holds besides the step.
    """

    _owner = "LRScheduler"

    def __init__(self, optimizer: Any, schedule: Any, last_epoch: int, total_steps: int | None = None) -> None:
        owner = self._owner
        optimizer = _check_optimizer(owner, optimizer)
        last_epoch = _check_last_epoch(owner, last_epoch)
        schedules, single = _check_schedules(owner, schedule, len(optimizer.param_groups))
        # Percentages of the run resolved once, here (the checkpoint holds the bound schedules).
        bound: dict[int, Schedule] = {}
        schedules = tuple(bound.setdefault(id(s), resolve(owner, s, total_steps)) for s in schedules)
        self.total_steps = total_steps
        self._schedules = schedules
        self._single = single
        self._index_schedules()
        # lrkit values are absolute: torch's `initial_lr`/`base_lrs` are never used. Set it so the
        # base class accepts `last_epoch >= 0` without an optimizer checkpoint.
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", _copy(group["lr"]))
        super().__init__(optimizer, last_epoch)

    # -- evaluation -----------------------------------------------------------------------------

    def _index_schedules(self) -> None:
        unique: list[Schedule] = []
        index: list[int] = []
        seen: dict[int, int] = {}
        for s in self._schedules:
            k = seen.get(id(s))
            if k is None:
                k = seen[id(s)] = len(unique)
                unique.append(s)
            index.append(k)
        self._unique = tuple(unique)
        self._group_index = tuple(index)
        self._evals = tuple(s._eval for s in unique)  # bound methods: one attribute lookup less

    def _sync_groups(self) -> None:
        n = len(self.optimizer.param_groups)
        if n == len(self._schedules):
            return
        if self._single:  # groups added with optimizer.add_param_group follow the one schedule
            self._schedules = (self._schedules[0],) * n
            self._index_schedules()
            return
        raise ValueError(
            f"{self._owner}: the optimizer now has {n} param groups but `schedule` lists "
            f"{len(self._schedules)}. Received: schedule={list(self._schedules)!r}"
        )

    def _schedule_values(self, step: int) -> list[float]:
        """Each group's schedule value at ``step``: Python floats, each distinct schedule once."""
        t = float(step)
        evals = self._evals
        if len(evals) == 1:
            return [float(evals[0](t, SCALAR_OPS))] * len(self._group_index)
        vals = [float(ev(t, SCALAR_OPS)) for ev in evals]
        return [vals[i] for i in self._group_index]

    def _values(self, step: int) -> list[float]:
        return self._schedule_values(step)

    def _write(self, values: list[float]) -> None:
        raise NotImplementedError

    def _apply(self) -> None:
        if len(self.optimizer.param_groups) != len(self._group_index):
            self._sync_groups()
        self._write(self._values(self.last_epoch))

    # -- torch's scheduler protocol -------------------------------------------------------------

    def step(self, epoch: int | None = None) -> None:
        """Advance one update: the groups get ``schedule(k)`` after the ``k``-th call.

        Call it after ``optimizer.step()``. Warns like torch's own schedulers when the order
        looks reversed.

        Args:
          epoch: deprecated in torch; if given, jump to ``last_epoch = epoch`` (a non-negative
            integer). lrkit is closed-form, so this is exact.
        """
        if self._step_count == 1:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn(
                    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                    "initialization. Please, make sure to call `optimizer.step()` before "
                    "`lr_scheduler.step()`. See more details at "
                    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                    UserWarning,
                    stacklevel=2,
                )
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(
                    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
                    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
                    "will result in PyTorch skipping the first value of the learning rate schedule. "
                    "See more details at "
                    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                    UserWarning,
                    stacklevel=2,
                )
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
        else:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            if not isinstance(epoch, numbers.Integral) or isinstance(epoch, bool) or epoch < 0:
                raise ValueError(
                    f"{self._owner}.step: `epoch` must be a non-negative integer. Received: epoch={epoch!r}"
                )
            self.last_epoch = int(epoch)
        self._apply()

    def get_lr(self) -> list[float]:
        """The values for the current ``last_epoch`` (closed form); prefer ``get_last_lr()``."""
        return self._values(self.last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        return self._values(self.last_epoch)

    # -- checkpoints ----------------------------------------------------------------------------

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state, primitives only (``torch.load(..., weights_only=True)`` reads it).

        Returns:
          ``{"last_epoch": int, "_step_count": int, "schedules": [config, ...], ...}`` where each
          config is ``Schedule.to_config()`` of the group's schedule.
        """
        return {
            "last_epoch": int(self.last_epoch),
            "_step_count": int(self._step_count),
            "schedules": [s.to_config() for s in self._schedules],
            **self._extra_state(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from ``state_dict()``: restore the step and write its values into the groups.

        Raises:
          ValueError: the checkpoint was saved with different schedules (or a different number
            of param groups), or is not a state dict of this class.
          TypeError: ``state_dict`` is not a dict.
        """
        owner = f"{self._owner}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"{owner}: `state_dict` must be a dict from state_dict(). "
                f"Received: state_dict of type {type(state_dict).__name__}"
            )
        missing = [k for k in ("last_epoch", "_step_count", "schedules") if k not in state_dict]
        if missing:
            raise ValueError(
                f"{owner}: `state_dict` is missing {missing}; it was not made by "
                f"lrkit's {self._owner}.state_dict(). Received keys: {sorted(state_dict)}"
            )
        self._sync_groups()
        saved = state_dict["schedules"]
        mine = [s.to_config() for s in self._schedules]
        if saved != mine:
            raise ValueError(
                f"{owner}: the checkpoint was saved with a different schedule; refusing to resume. "
                f"Received: schedules={saved!r}, this scheduler has schedules={mine!r}"
            )
        last_epoch, step_count = state_dict["last_epoch"], state_dict["_step_count"]
        for name, v in (("last_epoch", last_epoch), ("_step_count", step_count)):
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < -1:
                raise ValueError(f"{owner}: `{name}` must be an integer >= -1. Received: {name}={v!r}")
        self._load_extra_state(state_dict)
        self.last_epoch = int(last_epoch)
        self._step_count = int(step_count)
        if self.last_epoch >= 0:
            self._apply()


# -- learning rate --------------------------------------------------------------------------------


class LRScheduler(_ClosedFormScheduler):
    r"""A ``torch.optim.lr_scheduler.LRScheduler`` driven by an lrkit schedule.

    After ``k`` calls of ``.step()`` every param group's ``lr`` is ``schedule(k)``; the constructor
    puts ``schedule(0)`` into the groups, so update ``k`` (0-based) uses ``schedule(k)``. Values
    are **absolute**: the optimizer's own ``lr`` is overwritten, never multiplied. Each value is
    computed from the step alone (closed form), in Python float64.

    With ``plateau`` the learning rate becomes
    :math:`\min(s(k), \max(s(k) \cdot \mathrm{scale}, \mathrm{min\_lr}))`, where ``scale`` is the
    product of the reductions so far; call :meth:`report` once per evaluation. One plateau
    state is shared by every param group (the ``lr`` passed to its ``eps`` rule is group 0's).

    A param group holding ``lr_scale`` (timm's layer-wise decay convention) gets
    ``value * group["lr_scale"]``. A tensor ``lr`` (``capturable``/compiled optimizers) is
    filled in place, as torch's own schedulers do.

    Args:
      optimizer: a ``torch.optim.Optimizer``.
      schedule: one lrkit ``Schedule`` for every param group, or a list with one per group.
        A single schedule also drives groups added later with ``add_param_group``.
      plateau: an :class:`lrkit.ReduceOnPlateau`, or ``None``.
      last_epoch: torch's convention: the index of the last step already taken, ``-1`` for a
        fresh start. With ``last_epoch=k`` the constructor steps once and applies
        ``schedule(k + 1)``. To resume, prefer :meth:`load_state_dict`.
      total_steps: the run's number of updates, which resolves durations written as percentages
        of the run (``"5%"``, see ``Schedule.bind``); required if the schedule has any.

    Raises:
      TypeError: ``optimizer`` is not an optimizer, ``schedule`` not a schedule or list of them.
      ValueError: a list ``schedule`` has the wrong length, or ``last_epoch < -1``.

    Examples:
      >>> import torch, lrkit as lk
      >>> p = torch.nn.Parameter(torch.zeros(()))
      >>> opt = torch.optim.SGD([p], lr=1.0)
      >>> sched = LRScheduler(opt, lk.step(0.1, 0.5, every=2))
      >>> lrs = []
      >>> for _ in range(5):
      ...     lrs.append(opt.param_groups[0]["lr"])
      ...     opt.step()
      ...     sched.step()
      >>> lrs
      [0.1, 0.1, 0.05, 0.05, 0.025]
    """

    _owner = "LRScheduler"

    def __init__(
        self,
        optimizer: Any,
        schedule: Schedule | Sequence[Schedule],
        *,
        plateau: Any = None,
        last_epoch: int = -1,
        total_steps: int | None = None,
    ) -> None:
        self.plateau = _check_plateau(self._owner, plateau)
        self._plateau_state = None if plateau is None else plateau.initial_state()
        super().__init__(optimizer, schedule, last_epoch, total_steps)

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        """The schedule of each param group."""
        return self._schedules

    def _values(self, step: int) -> list[float]:
        vals = self._schedule_values(step)
        if self.plateau is not None:
            p, state = self.plateau, self._plateau_state
            vals = [float(p.apply(v, state)) for v in vals]
        return vals

    def _write(self, values: list[float]) -> None:
        # `values` is a fresh list (see _schedule_values): it becomes `_last_lr` after the
        # per-group adjustments, so the common case costs one dict store per group.
        i = 0
        for group in self.optimizer.param_groups:
            if "lr_scale" in group:
                values[i] = values[i] * group["lr_scale"]
            cur = group["lr"]
            if cur.__class__ is not float and isinstance(cur, _Tensor):  # isinstance(Tensor) is slow
                cur.fill_(values[i])
                values[i] = cur.clone()
            else:
                group["lr"] = values[i]
            i += 1
        self._last_lr = values

    def report(self, metric: Any, *, reduce: str | None = None) -> None:
        """Feed one evaluation's metric to the plateau rule; a reduction applies immediately.

        Args:
          metric: the monitored quantity (a number or a one-element tensor).
          reduce: ``None`` (use ``metric`` as is), or ``"mean"``/``"min"``/``"max"`` to all-reduce
            it over the default ``torch.distributed`` process group first, so every rank of a
            DDP job takes the same decision even when ranks see different local metrics.

        Raises:
          ValueError: the scheduler was built without ``plateau=``, or ``reduce`` is unknown.
          TypeError: ``metric`` is ``None`` or not a number (NaN/inf warn and are ignored).
        """
        if self.plateau is None:
            raise ValueError(
                f"{self._owner}.report: this scheduler has no `plateau`; build it with "
                "LRScheduler(optimizer, schedule, plateau=lrkit.ReduceOnPlateau(...)). Received: plateau=None"
            )
        if reduce is not None:
            from lrkit.backends._torch_plateau import all_reduce_metric

            metric = all_reduce_metric(metric, reduce)
        value = metric.detach().item() if isinstance(metric, _Tensor) else metric
        current = self._values(max(self.last_epoch, 0))[0]
        self._plateau_state = self.plateau.update(self._plateau_state, value, current)
        self._apply()

    def _extra_state(self) -> dict[str, Any]:
        if self.plateau is None:
            return {}
        out: dict[str, Any] = {"plateau_state": _primitive(dict(self._plateau_state))}
        get_config = getattr(self.plateau, "get_config", None)
        if callable(get_config):
            out["plateau"] = _primitive(get_config())
        return out

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        has = "plateau_state" in state
        if has != (self.plateau is not None):
            raise ValueError(
                f"{self._owner}.load_state_dict: the checkpoint was saved "
                f"{'with' if has else 'without'} a plateau rule but this scheduler has "
                f"{'one' if self.plateau is not None else 'none'}; refusing to resume. "
                f"Received: plateau_state={state.get('plateau_state')!r}"
            )
        if has:
            saved = state["plateau_state"]
            if not isinstance(saved, dict) or set(saved) != set(self._plateau_state):
                raise ValueError(
                    f"{self._owner}.load_state_dict: `plateau_state` does not match this plateau rule's "
                    f"state keys {sorted(self._plateau_state)}. Received: plateau_state={saved!r}"
                )
            get_config = getattr(self.plateau, "get_config", None)
            if "plateau" in state and callable(get_config) and state["plateau"] != _primitive(get_config()):
                raise ValueError(
                    f"{self._owner}.load_state_dict: the checkpoint was saved with different plateau "
                    f"settings; refusing to resume. Received: plateau={state['plateau']!r}, this "
                    f"scheduler has plateau={_primitive(get_config())!r}"
                )
            self._plateau_state = dict(saved)


def _primitive(v: Any) -> Any:
    """Plain Python numbers/strings/containers (tensors and numpy scalars become numbers)."""
    if isinstance(v, dict):
        return {str(k): _primitive(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_primitive(x) for x in v]
    if isinstance(v, _Tensor):
        return v.item()
    if isinstance(v, (bool, int, float, str)) or v is None:
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    raise TypeError(f"LRScheduler.state_dict: cannot store {v!r} of type {type(v).__name__}")


# -- any other hyperparameter --------------------------------------------------------------------


class HyperparameterScheduler(_ClosedFormScheduler):
    """Drive any param-group hyperparameter (not only ``lr``) from an lrkit schedule.

    Same contract as :class:`LRScheduler`: after ``k`` calls of ``.step()`` the entry ``name`` of
    every param group holds ``schedule(k)`` (absolute values, closed form), the constructor writes
    ``schedule(0)``, and ``state_dict()`` holds primitives only. It is a
    ``torch.optim.lr_scheduler.LRScheduler`` too, so trainers that step a list of schedulers
    accept it; ``get_last_lr()`` reports the groups' learning rates (untouched here) and
    :meth:`get_last_value` the scheduled values. Use one instance per hyperparameter, next to an
    :class:`LRScheduler`, and step them together.

    ``name`` is a key every param group has (``"momentum"``, ``"weight_decay"``, ``"eps"``,
    ``"dampening"``, ...), or ``"beta1"``/``"beta2"``, which write the first/second entry of
    Adam-style ``betas`` tuples (the other entry is kept). Tensor entries are filled in place.

    Args:
      optimizer: a ``torch.optim.Optimizer``.
      name: the param-group entry to drive (a string, see above).
      schedule: one lrkit ``Schedule`` for every param group, or a list with one per group.
      last_epoch: as in :class:`LRScheduler` (``-1`` for a fresh start).
      total_steps: as in :class:`LRScheduler` (resolves percentages of the run).

    Raises:
      TypeError: ``name`` is not a string (or the other arguments have the wrong kind).
      ValueError: some param group has no entry ``name`` (or no ``betas`` for ``beta1``/``beta2``),
        or the entry is not a number.

    Examples:
      >>> import torch, lrkit as lk
      >>> p = torch.nn.Parameter(torch.zeros(()))
      >>> opt = torch.optim.AdamW([p], lr=1e-3)
      >>> b1 = HyperparameterScheduler(opt, "beta1", lk.cosine(0.85, 0.95, 10))
      >>> opt.param_groups[0]["betas"]
      (0.85, 0.999)
    """

    _owner = "HyperparameterScheduler"

    def __init__(
        self,
        optimizer: Any,
        name: str,
        schedule: Schedule | Sequence[Schedule],
        *,
        last_epoch: int = -1,
        total_steps: int | None = None,
    ) -> None:
        owner = self._owner
        optimizer = _check_optimizer(owner, optimizer)
        if not isinstance(name, str):
            raise TypeError(
                f"{owner}: `name` must be the name of a param-group entry (a string). "
                f"Received: name={name!r} of type {type(name).__name__}"
            )
        key = "betas" if name in _BETAS else name
        for i, group in enumerate(optimizer.param_groups):
            if key not in group:
                keys = sorted(k for k, v in group.items() if _numeric(v)) + (
                    ["beta1", "beta2"] if "betas" in group else []
                )
                raise ValueError(
                    f"{owner}: `name` must be an entry of every param group; param_groups[{i}] "
                    f"has no {key!r}. Numeric entries: {keys}. Received: name={name!r}"
                )
            v = group[key]
            ok = (
                isinstance(v, (tuple, list)) and len(v) == 2 and all(_numeric(x) for x in v)
                if name in _BETAS
                else _numeric(v)
            )
            if not ok:
                raise ValueError(
                    f"{owner}: `name` must name a numeric param-group entry; param_groups[{i}][{key!r}] "
                    f"is {v!r}. Received: name={name!r}"
                )
        self.name = name
        self._key = key
        self._beta = _BETAS.get(name)
        super().__init__(optimizer, schedule, last_epoch, total_steps)

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        """The schedule of each param group."""
        return self._schedules

    def _write(self, values: list[float]) -> None:
        key, beta = self._key, self._beta
        for group, v in zip(self.optimizer.param_groups, values):
            if beta is None:
                _set_value(group, key, v)
                continue
            betas = group[key]
            if isinstance(betas[beta], _Tensor):
                betas[beta].fill_(v)
            else:
                new = list(betas)
                new[beta] = v
                group[key] = tuple(new)
        self._last_value = list(values)
        self._last_lr = [_copy(g["lr"]) for g in self.optimizer.param_groups]

    def get_last_value(self) -> list[float]:
        """The value this scheduler last wrote into each param group."""
        return list(self._last_value)

    def _extra_state(self) -> dict[str, Any]:
        return {"name": self.name}

    def _load_extra_state(self, state: dict[str, Any]) -> None:
        if state.get("name") != self.name:
            raise ValueError(
                f"{self._owner}.load_state_dict: the checkpoint drives {state.get('name')!r} but this "
                f"scheduler drives {self.name!r}; refusing to resume. Received: name={state.get('name')!r}"
            )


def _numeric(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, _Tensor):
        return v.numel() == 1 and not v.dtype.is_complex
    return isinstance(v, numbers.Real) and math.isfinite(float(v))


# Learning-rate range test loop (lrkit/backends/_torch_range.py), re-exported here:
from lrkit.backends._torch_range import lr_range_test  # noqa: E402

__all__ += ["lr_range_test"]

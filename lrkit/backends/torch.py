"""PyTorch adapters: lrkit schedules driving ``torch.optim`` optimizers.

* :class:`LRScheduler`: a real ``torch.optim.lr_scheduler.LRScheduler`` that puts
  ``schedule(k)`` into the param groups after ``k`` calls of ``.step()`` (closed form, absolute
  values), optionally composed with :class:`lrkit.ReduceOnPlateau`.
* :class:`HyperparameterScheduler`: the same for any other param-group entry (``momentum``,
  ``weight_decay``, Adam's ``betas`` through ``"beta1"``/``"beta2"``, ...).

Both keep checkpoints to primitives (``torch.load(path, weights_only=True)`` reads them) and resume
exactly. ``clock="optimizer"`` counts the ``optimizer.step()`` calls that really ran instead of
``.step()`` calls (accelerate, ``GradScaler``); ``resume`` decides what a checkpoint with another
schedule does (``"strict"``, ``"checkpoint"``, ``"override"``); ``.step(metric)`` reports to a
plateau (Lightning's ``"reduce_on_plateau": True``). Evaluating a schedule at a tensor (``s(torch.arange(10))``) goes through
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
import weakref
from collections.abc import Sequence
from typing import Any

from lrkit import __version__ as _VERSION
from lrkit import _errors as E
from lrkit._ahead import values_ahead
from lrkit._base import Schedule
from lrkit._base import from_config as _from_config
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

from lrkit.backends._torch_range import hooked_optimizer  # after the torch check above

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
    if isinstance(schedule, (_torch_sched.LRScheduler, _torch_sched.ReduceLROnPlateau)):
        hint = " (port a torch scheduler with lrkit.from_torch(scheduler); a ReduceLROnPlateau goes to `plateau=`)"
    elif isinstance(schedule, numbers.Real) and not isinstance(schedule, bool):
        hint = f" (a constant rate is lrkit.constant({schedule!r}))"
    elif isinstance(schedule, dict):
        hint = " (a config from to_config() is rebuilt with lrkit.from_config(config))"
    else:
        hint = ""
    raise TypeError(
        f"{owner}: `schedule` must be an lrkit schedule or a list of them, one per param group{hint}. "
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
        hint = (
            " (copy a torch ReduceLROnPlateau's settings with lrkit.from_torch(plateau))"
            if isinstance(plateau, _torch_sched.ReduceLROnPlateau)
            else ""
        )
        raise TypeError(
            f"{owner}: `plateau` must be an lrkit.ReduceOnPlateau (or None){hint}. "
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


def _item(v: Any) -> Any:
    """A one-element tensor's number; anything else as is."""
    return v.item() if isinstance(v, _Tensor) and v.numel() == 1 else v


def _differ(values: list[Any]) -> bool:
    """Whether param-group values differ beyond rounding (``a * s / s`` is not always ``a``)."""
    nums = [float(_item(v)) for v in values if _numeric(_item(v))]
    return len(nums) == len(values) and any(not math.isclose(v, nums[0], rel_tol=1e-9) for v in nums)


def _copy(v: Any) -> Any:
    return v.clone() if isinstance(v, _Tensor) else v


# -- the shared closed-form machinery -----------------------------------------------------------


_CLOCKS = ("scheduler", "optimizer")
_RESUMES = ("strict", "checkpoint", "override")
# The layout of state_dict(). A checkpoint in another layout (another lrkit release that changed it)
# is refused by name instead of being half-read.
_FORMAT = 2
# resume="strict" compares two schedules at every step up to this many, then at every breakpoint
# (b - 1, b, b + 1) and at the ends; far enough for every run whose curve changes at a breakpoint.
_DENSE_STEPS = 2**22
_MAX_STEP = 2**53
# Values ahead (_schedule_values): after this many consecutive steps evaluated one at a time, the
# next _AHEAD steps are evaluated in one numpy pass.
_AHEAD_AFTER = 16
_AHEAD = 2048


class _ClosedFormScheduler(_torch_sched.LRScheduler):
    """A torch scheduler whose value after ``k`` updates is ``schedule(k)``.

    Subclasses say where values go (``_write``) and what a checkpoint holds besides the step.
    """

    _owner = "LRScheduler"

    def __init__(
        self, optimizer: Any, schedule: Any, last_epoch: int, clock: Any, resume: Any, total_steps: int | None = None
    ) -> None:
        owner = self._owner
        optimizer = _check_optimizer(owner, optimizer)
        last_epoch = _check_last_epoch(owner, last_epoch)
        self.clock = E.choice(owner, "clock", clock, _CLOCKS)
        self.resume = E.choice(owner, "resume", resume, _RESUMES)
        schedules, single = _check_schedules(owner, schedule, len(optimizer.param_groups))
        if single:
            self._warn_overwritten_groups(optimizer)
        # Percentages of the run resolved once, here (the checkpoint holds the bound schedules).
        bound: dict[int, Schedule] = {}
        schedules = tuple(bound.setdefault(id(s), resolve(owner, s, total_steps)) for s in schedules)
        # Not `self.total_steps`: accelerate's AcceleratedScheduler takes any scheduler with that
        # attribute for a OneCycleLR and stops stepping it (or fails on None).
        self._total_steps = total_steps
        self._schedules = schedules
        self._single = single
        self._index_schedules()
        self._hooks: list[Any] = []
        self._compiled_seen = [False]
        self._float_warned = False
        # lrkit values are absolute: torch's `initial_lr`/`base_lrs` are never used. Set it so the
        # base class accepts `last_epoch >= 0` without an optimizer checkpoint.
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", _copy(group["lr"]))
        self._lean = False  # see _apply
        self._constructing = True
        try:
            super().__init__(optimizer, last_epoch)
        finally:
            self._constructing = False
        self._attach_hooks()
        self._check_float_entries(compiled=False)

    # -- the optimizer clock ----------------------------------------------------------------------

    def _attach_hooks(self) -> None:
        """Hooks on the optimizer, through its public ``register_step_*_hook`` API.

        * ``clock="optimizer"``: a post-hook counts real updates. It runs only when
          ``optimizer.step()`` really ran: a ``GradScaler`` that found inf gradients skips the
          call, and so does accelerate while accumulating gradients. Under ``torch.compile`` it
          runs eagerly (``torch.compiler.disable``, applied only while tracing, so eager users
          never import dynamo) and fills tensor hyperparameters in place: the compiled step
          never sees a new Python value.
        * Always: a pre-hook that only notes, while ``torch.compile`` traces the step, that the
          step is compiled (a list store, no read: no guard, no graph break), so a float entry
          this scheduler drives gets one warning naming the fix.

        The hooks hold the scheduler weakly and are removed when it is garbage-collected.
        """
        me = weakref.ref(self)
        seen = self._compiled_seen

        def _compile_probe(optimizer: Any, args: Any, kwargs: Any) -> None:
            if _is_compiling():
                seen[0] = True

        owner = _hook_owner(self._owner, self.optimizer)
        handles = [owner.register_step_pre_hook(_compile_probe)]
        if self.clock == "optimizer":

            def _after_update(optimizer: Any, args: Any, kwargs: Any) -> None:
                if _is_compiling():
                    # Traced by torch.compile: run the update eagerly, outside the graph, so the
                    # compiled step neither bakes in the step number nor guards on it.
                    torch.compiler.disable(_advance)(me)
                else:
                    _advance(me)

            handles.append(owner.register_step_post_hook(_after_update))
        self._hooks = [*handles, weakref.finalize(self, _remove_all, handles)]

    def _on_update(self) -> None:
        self.last_epoch += 1
        self._apply()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_hooks"] = []  # the hooks belong to this optimizer object
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._attach_hooks()  # on the copied optimizer
        self._index_schedules()  # values ahead start afresh (and a pickle from before them has none)
        self._lean = False

    def _float_entries(self) -> list[str]:
        """The entries this scheduler drives that hold Python floats (``"param_groups[0]['lr']"``)."""
        return []

    def _group_entries(self, optimizer: Any) -> list[tuple[str, Any]]:
        """``(name, value)`` of the entry this scheduler drives, per group, as the user set it."""
        return []

    def _warn_overwritten_groups(self, optimizer: Any) -> None:
        """Warn when one schedule is about to overwrite param groups the user set differently.

        lrkit's values are absolute, so one schedule gives every group the same value; torch's own
        schedulers multiply each group's value instead. Groups set to different values (a smaller
        lr for a backbone, no weight decay for biases) almost always mean the user expects the
        latter, and would otherwise lose the difference silently.
        """
        entries = self._group_entries(optimizer)
        values = [_item(v) for _, v in entries]
        if not _differ(values):
            return
        shown = ", ".join(f"{name}={v!r}" for (name, _), v in zip(entries[:4], values[:4]))
        warnings.warn(
            f"{self._owner}: the optimizer's param groups hold different values ({shown}"
            f"{', ...' if len(entries) > 4 else ''}) but one schedule was given, and lrkit's values are "
            "absolute: every group now gets the same schedule(k), and those differences are lost. "
            "To keep them, pass a list with one schedule per group (e.g. [s * 0.1, s], or "
            "lk.constant(0.0) for a group that stays at 0). Received: a single schedule for "
            f"{len(entries)} param groups",
            UserWarning,
            stacklevel=4,
        )

    def _check_float_entries(self, compiled: bool) -> None:
        """Warn once if a compiled ``optimizer.step`` would recompile for every new float value.

        At construction (``compiled=False``) only when the optimizer already looks set up for
        ``torch.compile`` (a tensor ``lr``, or ``capturable``/``fused``); otherwise when the
        pre-hook saw the step being compiled.
        """
        if self._float_warned:
            return
        floats = self._float_entries()
        if not floats:
            return
        if not compiled:
            groups = self.optimizer.param_groups
            if not any(
                isinstance(g.get("lr"), _Tensor) or g.get("capturable") or g.get("fused") for g in groups
            ):
                return
        self._float_warned = True
        warnings.warn(
            f"{self._owner}: {', '.join(floats[:3])}{' ...' if len(floats) > 3 else ''} is a Python "
            "float: a torch.compile-d optimizer.step recompiles for every new value this scheduler "
            "writes (until dynamo's recompile limit, then it runs uncompiled). Make the entry a "
            "tensor when building the optimizer, e.g. torch.optim.AdamW(params, "
            "lr=torch.tensor(1e-3), betas=(torch.tensor(0.9), torch.tensor(0.999)), "
            "weight_decay=torch.tensor(0.01)); lrkit fills tensors in place.",
            UserWarning,
            stacklevel=3,
        )

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
        # Values ahead (see _schedule_values): steps [_ahead_at, _ahead_at + _ahead_n) of each
        # distinct schedule, computed in one numpy pass, bit for bit the scalar values.
        self._ahead_at = 0
        self._ahead_n = 0
        self._ahead: tuple[list[float], ...] = ()
        self._run = 0  # consecutive steps evaluated one at a time, ending at _next - 1
        self._next = -1
        self._retry_at = 0  # a pass that could not stand in for the scalar one: not before this step
        self._misses = 0  # such passes in a row

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
        """Each group's schedule value at ``step``: Python floats, each distinct schedule once.

        A fresh list (``_write`` adjusts it in place). Once ``_AHEAD_AFTER`` consecutive steps have
        been evaluated one at a time, the next ``_AHEAD`` steps of each schedule are evaluated in one
        numpy pass (``lrkit._ahead.values_ahead``: every value bit for bit the scalar one) and read
        from there. Those values depend on the step alone: a plateau applies on top of them, and
        only a change of schedules (a resume, groups added) drops them (``_index_schedules``).
        """
        i = step - self._ahead_at
        if 0 <= i < self._ahead_n:
            ahead = self._ahead
            if len(ahead) == 1:
                return [ahead[0][i]] * len(self._group_index)
            return [ahead[u][i] for u in self._group_index]
        if step == self._next:
            self._run += 1
        else:
            self._run = 0
        self._next = step + 1
        if self._run >= _AHEAD_AFTER and step >= self._retry_at and step + _AHEAD <= _MAX_STEP:
            ahead = []
            for s in self._unique:
                a = values_ahead(s, step, _AHEAD, max_runs=_AHEAD // 32)
                if a is None:
                    break
                ahead.append(a)
            else:
                self._ahead_at, self._ahead_n, self._ahead = step, _AHEAD, tuple(ahead)
                self._next = step + _AHEAD  # the step after these continues the run
                self._misses = 0
                return self._schedule_values(step)
            # Not here (a curve of many short pieces, say): try again later, less often each time.
            self._retry_at = step + _AHEAD * 2 ** min(self._misses, 6)
            self._misses += 1
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
        if self._compiled_seen[0] and not self._float_warned:
            self._check_float_entries(compiled=True)
        # Whether the next step() without arguments may take the lean path: the default clock, past
        # torch's first-step checks, no plateau. Everything that changes one of these (construction,
        # the first step, load_state_dict, a report) ends here.
        self._lean = (
            self.clock == "scheduler"
            and self._step_count > 1
            and not self._constructing
            and getattr(self, "plateau", None) is None
        )

    # -- torch's scheduler protocol -------------------------------------------------------------

    def step(self, epoch: Any = None) -> None:
        """Advance one update (``clock="scheduler"``), or re-sync (``clock="optimizer"``).

        With the default clock, call it after ``optimizer.step()``: the groups get ``schedule(k)``
        after the ``k``-th call, and torch's order warnings apply. With ``clock="optimizer"`` the
        groups already follow every real update, and ``step()`` only writes the current values
        again, so it may be called any number of times per update (accelerate calls it once per
        process) or after an update a ``GradScaler`` skipped.

        Args:
          epoch: ``None``; or a float / 0-d floating tensor: a metric, reported to the scheduler's
            ``plateau`` as :meth:`LRScheduler.report` does (what Lightning's
            ``"reduce_on_plateau": True`` calls), after advancing the default clock by one; or an
            int: torch's deprecated epoch argument, a jump to ``last_epoch = epoch`` (exact: lrkit
            is closed form).

        Raises:
          ValueError: a negative ``epoch``, or a metric on a scheduler without ``plateau``.
          TypeError: ``epoch`` is neither an integer nor a number.
        """
        if epoch is None and self._lean:
            # The training loop's call, kept lean (see _apply): in the common case (values read
            # ahead, the same groups, no compiled step seen) this is _apply with its calls inlined.
            self._step_count += 1
            self.last_epoch += 1
            i = self.last_epoch - self._ahead_at
            index = self._group_index
            if 0 <= i < self._ahead_n and len(self.optimizer.param_groups) == len(index) and not self._compiled_seen[0]:
                ahead = self._ahead
                if len(index) == 1:
                    self._write([ahead[0][i]])
                elif len(ahead) == 1:
                    self._write([ahead[0][i]] * len(index))
                else:
                    self._write([ahead[u][i] for u in index])
            else:
                self._apply()
            return
        if self._constructing:  # torch's initial step: schedule(last_epoch + 1) into the groups
            self._step_count += 1
            self.last_epoch += 1
            self._apply()
            return
        metric = None
        if epoch is not None:
            if _is_metric(epoch):
                metric, epoch = epoch, None
                self._check_metric_target(metric)
            else:
                epoch = _check_epoch(self._owner, epoch)  # validated before anything changes
        if self.clock == "scheduler" and self._step_count == 1:
            _order_warnings(self.optimizer)
        self._step_count += 1
        if metric is not None:
            if self.clock == "scheduler":
                self.last_epoch += 1
            self._report_metric(metric, "epoch")
            return
        if epoch is None:
            if self.clock == "scheduler":
                self.last_epoch += 1
        else:
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            self.last_epoch = epoch
        self._apply()

    def _check_metric_target(self, metric: Any) -> None:
        raise ValueError(
            f"{self._owner}.step: `epoch` must be an integer epoch; a float is a metric, reported "
            f"only by an LRScheduler built with plateau=lrkit.ReduceOnPlateau(...). Received: epoch={metric!r}"
        )

    def _report_metric(self, metric: Any, name: str) -> None:
        raise NotImplementedError

    def get_lr(self) -> list[float]:
        """The values for the current ``last_epoch`` (closed form); prefer ``get_last_lr()``."""
        return self._values(self.last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        return self._values(self.last_epoch)

    # -- checkpoints ----------------------------------------------------------------------------

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _extra_keys(self, state: dict[str, Any]) -> tuple[set[str], set[str]]:
        """``(required, optional)`` keys of this class's part of a checkpoint."""
        return set(), set()

    def _check_extra_state(self, state: dict[str, Any], owner: str) -> dict[str, Any]:
        """Validate this class's part of ``state``; returns the attributes to assign (nothing yet)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state, primitives only (``torch.load(..., weights_only=True)`` reads it).

        Returns:
          ``{"format", "kind", "lrkit_version", "clock", "last_epoch", "_step_count", "schedules",
          ...}``, where ``schedules`` holds each group's ``Schedule.to_config()`` and ``last_epoch``
          the step (the number of updates applied, with either clock).
        """
        return {
            "format": _FORMAT,
            "kind": self._owner,
            "lrkit_version": _VERSION,
            "clock": self.clock,
            "last_epoch": int(self.last_epoch),
            "_step_count": int(self._step_count),
            "schedules": [s.to_config() for s in self._schedules],
            **self._extra_state(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from ``state_dict()``: the step (and plateau state) always come from it.

        What happens to a stored schedule that differs from the constructor's depends on
        ``resume``: ``"strict"`` accepts it only if both give the same value at every step (see
        :class:`LRScheduler`), ``"checkpoint"`` uses the stored one, ``"override"`` keeps the
        constructor's. The whole state is validated before anything is assigned: a refused load
        leaves the scheduler as it was.

        Raises:
          ValueError: the schedules differ under ``resume="strict"`` (the message shows both and
            the first step where they differ), another number of param groups, a state from
            another lrkit format or scheduler kind, a missing or unknown key, a bad value.
          TypeError: ``state_dict`` or one of its fields has the wrong type.
        """
        owner = f"{self._owner}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"{owner}: `state_dict` must be a dict from state_dict(). "
                f"Received: state_dict of type {type(state_dict).__name__}"
            )
        state = _from_format_1(state_dict)
        fmt = state.get("format")
        if fmt is None and "base_lrs" in state and "last_epoch" in state:
            raise ValueError(
                f"{owner}: `state_dict` is a torch scheduler's state (it has 'base_lrs'), not lrkit's: "
                "lrkit cannot read a native scheduler's checkpoint. To continue a native run, port the "
                "scheduler and start at its step: LRScheduler(optimizer, lk.from_torch(native_scheduler), "
                "last_epoch=state['last_epoch'] - 1). Received: last_epoch="
                f"{state['last_epoch']!r}, keys={sorted(map(str, state))}"
            )
        if fmt != _FORMAT:
            raise ValueError(
                f"{owner}: `state_dict` is not in this lrkit's checkpoint format {_FORMAT} (lrkit "
                f"{_VERSION}); it was written by lrkit {state.get('lrkit_version', 'unknown')!s} or "
                f"is not an lrkit state. Received: format={fmt!r}, keys={sorted(map(str, state))}"
            )
        if state.get("kind") != self._owner:
            raise ValueError(
                f"{owner}: `kind` must be {self._owner!r}: the checkpoint was written by another "
                f"lrkit scheduler. Received: kind={state.get('kind')!r}"
            )
        extra_required, extra_optional = self._extra_keys(state)
        required = {"format", "kind", "lrkit_version", "clock", "last_epoch", "_step_count", "schedules"}
        required |= extra_required
        missing = sorted(required - set(state))
        unknown = sorted(map(str, set(state) - required - extra_optional))
        if missing or unknown:
            raise ValueError(
                f"{owner}: `state_dict` "
                + "; ".join(
                    x for x in (f"is missing {missing}" if missing else "",
                                f"has unknown keys {unknown}" if unknown else "") if x
                )
                + f"; it was not made by lrkit's {self._owner}.state_dict(). Received keys: "
                f"{sorted(map(str, state))}"
            )
        E.choice(owner, "clock", state["clock"], _CLOCKS)
        last_epoch = _check_count(owner, "last_epoch", state["last_epoch"])
        step_count = _check_count(owner, "_step_count", state["_step_count"])
        schedules = self._resolve_schedules(state["schedules"], owner)
        extra = self._check_extra_state(state, owner)
        # -- everything is valid: assign --
        if schedules is not None:
            self._schedules = schedules
            self._index_schedules()
        for name, v in extra.items():
            setattr(self, name, v)
        self.last_epoch = last_epoch
        self._step_count = step_count
        self._apply()

    def _resolve_schedules(self, saved: Any, owner: str) -> tuple[Schedule, ...] | None:
        """The schedules to run after the load (``None``: keep the current ones)."""
        if not isinstance(saved, list) or not all(isinstance(c, dict) for c in saved):
            raise TypeError(
                f"{owner}: `schedules` must be a list of schedule configs. Received: schedules={saved!r}"
            )
        self._sync_groups()
        n = len(self.optimizer.param_groups)
        if self.resume == "override":
            return None
        if len(saved) != n:
            raise ValueError(
                f"{owner}: the checkpoint was saved with a different schedule list: {len(saved)} "
                f"schedule(s) for this optimizer's {n} param group(s); refusing to resume. "
                f"Received: schedules={saved!r}"
            )
        mine = [s.to_config() for s in self._schedules]
        if saved == mine:
            return None
        built: list[Schedule] = []
        for i, c in enumerate(saved):
            try:
                built.append(_from_config(c))
            except (ValueError, TypeError) as e:
                raise ValueError(f"{owner}: `schedules[{i}]` is not a valid schedule config: {e}") from None
        if self.resume == "checkpoint":
            out: list[Schedule] = []
            for b in built:  # groups with equal stored schedules share one object (evaluated once)
                out.append(next((o for o in out if o == b), b))
            return tuple(out)
        for i, (a, b) in enumerate(zip(built, self._schedules)):
            if a == b:
                continue
            k = _first_difference(a, b)
            if k is not None:
                group = f" (param group {i})" if n > 1 else ""
                raise ValueError(
                    f"{owner}: the checkpoint was saved with a different schedule{group}; refusing "
                    f'to resume with resume="strict": first difference at step {k}: checkpoint '
                    f"{a!r} gives {a(k)!r}, this scheduler's {b!r} gives {b(k)!r}. Pass "
                    'resume="checkpoint" to continue with the stored schedule, or resume="override" '
                    f"to continue this one from the stored step. Received: schedules={saved!r}"
                )
        return None  # the same curves written differently: keep the constructor's


def _first_difference(a: Schedule, b: Schedule) -> int | None:
    """The first step at which ``a`` and ``b`` differ, or ``None`` if they agree everywhere checked.

    Checked: every step from 0 to the larger duration (capped at ``_DENSE_STEPS``; numpy, exact
    float64 comparison, each candidate confirmed in Python floats, what the adapter evaluates),
    and every breakpoint ``b - 1, b, b + 1`` of either schedule and the durations' ends (Python
    floats).
    """
    import numpy as np

    ends = [d for d in (a.duration, b.duration) if d is not None]
    settled = len(ends) == 2
    horizon = max(ends) + 1 if settled else _MAX_STEP
    probes: set[int] = set()
    for s in (a, b):
        for p in s.breakpoints(horizon + 1):
            probes.update((p - 1, p, p + 1))
    probes.update(e + d for e in ends for d in (-1, 0, 1))
    dense = min(horizon, _DENSE_STEPS) if settled else min(max(probes, default=0) + 2, _DENSE_STEPS)
    first: int | None = None
    chunk = 1 << 18
    for lo in range(0, dense + 1, chunk):
        t = np.arange(lo, min(lo + chunk, dense + 1), dtype=np.float64)
        for k in np.flatnonzero(np.asarray(a(t)) != np.asarray(b(t)))[:64]:
            k = lo + int(k)
            if a(k) != b(k):
                first = k
                break
        if first is not None:
            break
    for p in sorted(q for q in probes if 0 <= q <= _MAX_STEP and q > dense):
        if first is not None and p >= first:
            break
        if a(p) != b(p):
            return p
    return first


# lrkit 0.1.0 wrote checkpoints without `format`: these keys, plus `plateau`/`plateau_state`
# (LRScheduler) or `name` (HyperparameterScheduler). They read as format 2 with the default clock.
_FORMAT_1_KEYS = frozenset({"last_epoch", "_step_count", "schedules"})
_FORMAT_1_OPTIONAL = frozenset({"plateau", "plateau_state", "name"})


def _from_format_1(state: dict[str, Any]) -> dict[str, Any]:
    keys = set(state)
    if "format" in keys or not _FORMAT_1_KEYS <= keys or not keys <= _FORMAT_1_KEYS | _FORMAT_1_OPTIONAL:
        return state
    kind = "HyperparameterScheduler" if "name" in keys else "LRScheduler"
    return {**state, "format": _FORMAT, "kind": kind, "lrkit_version": "0.1.0", "clock": "scheduler"}


def _hook_owner(owner: str, optimizer: Any) -> Any:
    """The optimizer whose step hooks run: ``optimizer``, or the one a wrapper steps
    (``_torch_range.hooked_optimizer``); a ``TypeError`` where there is none."""
    found = hooked_optimizer(optimizer)
    if found is not None:
        return found
    raise TypeError(
        f"{owner}: `optimizer` is a {type(optimizer).__name__} without torch's step hooks (it did not run "
        "torch.optim.Optimizer.__init__) and wraps no optimizer that has them (as `.optimizer`); build the "
        "scheduler on the torch optimizer itself. "
        f"Received: optimizer of type {type(optimizer).__name__}"
    )


def _advance(ref: Any) -> None:
    sched = ref()
    if sched is not None:
        sched._on_update()


def _remove_all(handles: list[Any]) -> None:
    for h in handles:
        h.remove()


_is_compiling = getattr(torch.compiler, "is_compiling", None) or torch._dynamo.is_compiling


def _is_metric(v: Any) -> bool:
    """A float or a 0-d floating tensor (an int is torch's deprecated epoch argument)."""
    if isinstance(v, _Tensor):
        return v.dim() == 0 and v.is_floating_point()
    return isinstance(v, numbers.Real) and not isinstance(v, numbers.Integral)


def _check_epoch(owner: str, epoch: Any) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral):
        raise TypeError(
            f"{owner}.step: `epoch` must be a non-negative integer (torch's deprecated epoch "
            "argument) or a float metric for a plateau scheduler. "
            f"Received: epoch={epoch!r} of type {type(epoch).__name__}"
        )
    if not 0 <= epoch <= _MAX_STEP:
        raise ValueError(f"{owner}.step: `epoch` must be a non-negative integer. Received: epoch={epoch!r}")
    return int(epoch)


def _check_count(owner: str, name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(
            f"{owner}: `{name}` must be a non-negative integer. Received: {name}={v!r} of type {type(v).__name__}"
        )
    if not 0 <= v <= _MAX_STEP:
        raise ValueError(f"{owner}: `{name}` must be a non-negative integer. Received: {name}={v!r}")
    return int(v)


def _order_warnings(optimizer: Any) -> None:
    """torch's own warnings about the order of ``optimizer.step()`` and ``scheduler.step()``."""
    if not hasattr(optimizer.step, "_wrapped_by_lr_sched"):
        warnings.warn(
            "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
            "initialization. Please, make sure to call `optimizer.step()` before "
            "`lr_scheduler.step()`. See more details at "
            "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
            UserWarning,
            stacklevel=3,
        )
    elif not getattr(optimizer, "_opt_called", False):
        warnings.warn(
            "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
            "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
            "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
            "will result in PyTorch skipping the first value of the learning rate schedule. "
            "See more details at "
            "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
            UserWarning,
            stacklevel=3,
        )


# -- learning rate --------------------------------------------------------------------------------


class LRScheduler(_ClosedFormScheduler):
    r"""A ``torch.optim.lr_scheduler.LRScheduler`` driven by an lrkit schedule.

    After ``k`` updates every param group's ``lr`` is ``schedule(k)``; the constructor puts
    ``schedule(0)`` into the groups, so update ``k`` (0-based) uses ``schedule(k)``. Values are
    **absolute**: the optimizer's own ``lr`` is overwritten, never multiplied. Each value is
    computed from the step alone (closed form), in Python float64.

    **Who moves the clock.** With ``clock="scheduler"`` (torch's convention) the step is the
    number of ``.step()`` calls. With ``clock="optimizer"`` it is the number of
    ``optimizer.step()`` calls that really ran, counted with the optimizer's step post-hook: the
    groups follow every real update by themselves and ``.step()`` only re-syncs. Use it under
    accelerate (which steps a prepared scheduler once per process per update), with a
    ``GradScaler`` (which skips updates whose gradients overflowed), or whenever the scheduler
    might be stepped more or less often than the optimizer.

    **Plateau.** With ``plateau`` the learning rate becomes
    :math:`\min(s(k), \max(s(k) \cdot \mathrm{scale}, \mathrm{min\_lr}))`, where ``scale`` is the
    product of the reductions so far. Report one metric per evaluation with :meth:`report`, or
    with ``.step(metric)`` (a float or a 0-d floating tensor), which is what Lightning calls for
    ``{"scheduler": sched, "monitor": "val_loss", "reduce_on_plateau": True}``. One plateau state
    is shared by every param group (its ``eps`` rule sees the largest group's value: a group frozen at
    lr 0 does not block the others' reductions, as in torch). A
    plateau scheduler checkpointed a second time, steps later, without ever receiving a metric
    warns: Lightning with ``"monitor"`` but without ``"reduce_on_plateau": True`` never passes one.

    **Resume.** ``state_dict()`` holds primitives only (``torch.load(path, weights_only=True)``);
    :meth:`load_state_dict` always takes the step and the plateau state from the checkpoint.
    ``resume`` decides what happens when the checkpoint's schedule differs from ``schedule``:
    ``"strict"`` compares both exactly at every step from 0 to the larger of their durations
    (up to 2**22 steps, then at every breakpoint ``b - 1, b, b + 1`` of either) and accepts the
    load only if all agree (the same curve written differently), otherwise raises a
    ``ValueError`` showing both and the first step where they differ; ``"checkpoint"``
    continues with the stored schedule (and plateau settings); ``"override"`` continues the
    constructor's schedule from the stored step (train longer, branch a cooldown).

    With one ``schedule`` for every group, a group holding ``lr_scale`` (timm's layer-wise decay
    convention) gets ``value * group["lr_scale"]``, as timm's schedulers do; a list of schedules
    is applied as given (``[lk.from_timm(timm_scheduler, group=i) for i in ...]`` already holds
    each group's ``lr_scale``). One schedule for groups whose ``lr`` differ warns: every group
    gets the same absolute value. A tensor ``lr`` (``capturable``/compiled optimizers) is
    filled in place, so a ``torch.compile``-d ``optimizer.step`` never recompiles for a new lr.

    Args:
      optimizer: a ``torch.optim.Optimizer``.
      schedule: one lrkit ``Schedule`` for every param group, or a list with one per group.
        A single schedule also drives groups added later with ``add_param_group``, and warns at
        construction when the groups' ``lr`` differ (they would all get the same value).
      plateau: an :class:`lrkit.ReduceOnPlateau`, or ``None``.
      clock: ``"scheduler"`` (default) or ``"optimizer"``, see above.
      resume: ``"strict"`` (default), ``"checkpoint"`` or ``"override"``, see above.
      last_epoch: torch's convention: the index of the last step already taken, ``-1`` for a
        fresh start. With ``last_epoch=k`` the constructor steps once and applies
        ``schedule(k + 1)``. To resume, prefer :meth:`load_state_dict`.
      total_steps: the run's number of updates, which resolves durations written as percentages
        of the run (``"5%"``, see ``Schedule.bind``); required if the schedule has any.

    Raises:
      TypeError: ``optimizer`` is not an optimizer, ``schedule`` not a schedule or list of them,
        ``clock``/``resume`` not a string.
      ValueError: a list ``schedule`` has the wrong length, ``last_epoch < -1``, an unknown
        ``clock`` or ``resume``.

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

      The optimizer's clock: extra ``.step()`` calls do not move the schedule.

      >>> sched = LRScheduler(opt, lk.step(0.1, 0.5, every=2), clock="optimizer")
      >>> for _ in range(2):
      ...     opt.step()
      ...     sched.step(); sched.step()  # e.g. accelerate on 2 processes
      >>> sched.last_epoch, opt.param_groups[0]["lr"]
      (2, 0.05)
    """

    _owner = "LRScheduler"

    def __init__(
        self,
        optimizer: Any,
        schedule: Schedule | Sequence[Schedule],
        *,
        plateau: Any = None,
        clock: str = "scheduler",
        resume: str = "strict",
        last_epoch: int = -1,
        total_steps: int | None = None,
    ) -> None:
        self.plateau = _check_plateau(self._owner, plateau)
        self._plateau_state = None if plateau is None else plateau.initial_state()
        self._warned_unreported = False
        self._unreported_at: int | None = None
        super().__init__(optimizer, schedule, last_epoch, clock, resume, total_steps)

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
        scaled = self._single  # a list gives each group's own curve: its lr_scale is already in it
        for group in self.optimizer.param_groups:
            if scaled and "lr_scale" in group:
                values[i] = values[i] * group["lr_scale"]
            cur = group["lr"]
            if cur.__class__ is not float and isinstance(cur, _Tensor):  # isinstance(Tensor) is slow
                cur.fill_(values[i])
                values[i] = cur.clone()
            else:
                group["lr"] = values[i]
            i += 1
        self._last_lr = values

    def _group_entries(self, optimizer: Any) -> list[tuple[str, Any]]:
        # `initial_lr` when a scheduler (torch's or lrkit's) already moved `lr`: the user's value.
        entries = [(f"param_groups[{i}]['lr']", g.get("initial_lr", g["lr"])) for i, g in enumerate(optimizer.param_groups)]
        if not any("lr_scale" in g for g in optimizer.param_groups) or not _differ([v for _, v in entries]):
            return entries
        # Groups with `lr_scale` keep their differences through it: the same lr everywhere (timm's
        # convention, above) or an lr already set to base * lr_scale (BEiT's), which compares as base.
        for i, g in enumerate(optimizer.param_groups):
            scale, v = g.get("lr_scale"), entries[i][1]
            if isinstance(scale, numbers.Real) and scale > 0 and not isinstance(v, _Tensor):
                entries[i] = (f"param_groups[{i}]['lr'] / lr_scale", v / scale)
        return entries

    def _get_closed_form_lr(self) -> list[float]:
        # What torch's SequentialLR writes, bypassing _write, when it enters this scheduler at a
        # milestone: the values _write would write (one shared schedule times each lr_scale).
        values = self._values(self.last_epoch)
        if self._single:
            values = [v * g["lr_scale"] if "lr_scale" in g else v for v, g in zip(values, self.optimizer.param_groups)]
        return values

    def _float_entries(self) -> list[str]:
        return [
            f"param_groups[{i}]['lr']"
            for i, g in enumerate(self.optimizer.param_groups)
            if not isinstance(g["lr"], _Tensor)
        ]

    def report(self, metric: Any, *, reduce: str | None = None) -> None:
        """Feed one evaluation's metric to the plateau rule; a reduction applies immediately.

        ``scheduler.step(metric)`` does the same (and, with ``clock="scheduler"``, advances the
        step first).

        Args:
          metric: the monitored quantity (a real number or a one-element tensor).
          reduce: ``None`` (use ``metric`` as is), or ``"mean"``/``"min"``/``"max"`` to all-reduce
            it over the default ``torch.distributed`` process group first, so every rank of a
            DDP job takes the same decision even when ranks see different local metrics.

        Raises:
          ValueError: the scheduler was built without ``plateau=``, ``reduce`` is unknown, or
            ``metric`` has more than one element or is beyond the float range.
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
        self._report(metric, "metric")

    def _check_metric_target(self, metric: Any) -> None:
        if self.plateau is None:
            super()._check_metric_target(metric)

    def _report_metric(self, metric: Any, name: str) -> None:
        self._report(metric, name)

    def _report(self, metric: Any, name: str) -> None:
        if isinstance(metric, _Tensor):
            if metric.numel() != 1:
                raise ValueError(
                    f"{self._owner}.report: `{name}` must be a single number. "
                    f"Received: a tensor of shape {tuple(metric.shape)}"
                )
            metric = metric.detach().reshape(()).item()
        # The eps rule sees the largest group's value: torch applies it per group, so a group that
        # cannot change (frozen at lr 0, or below eps) must not keep the others from being reduced.
        current = max(self._values(max(self.last_epoch, 0)))
        self._plateau_state = self.plateau._update(self._plateau_state, metric, current)  # its own state
        self._apply()

    # -- checkpoints ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The base state plus ``plateau``/``plateau_state`` (see ``_ClosedFormScheduler``)."""
        state = super().state_dict()
        ps = self._plateau_state
        if self.plateau is not None and math.isinf(ps["best"]) and ps["num_bad_epochs"] == 0:
            # Never received a metric. A first checkpoint may come before the first evaluation
            # (Lightning saves before it steps plateau schedulers); a second one, steps later, may not.
            if self._unreported_at is None:
                self._unreported_at = self.last_epoch
            elif self.last_epoch > self._unreported_at and not self._warned_unreported:
                self._warned_unreported = True
                warnings.warn(
                    f"{self._owner}: this scheduler has a `plateau` but reached step {self.last_epoch} "
                    "without receiving a metric, so it cannot reduce the learning rate. Report one per "
                    "evaluation with scheduler.report(metric) or scheduler.step(metric). In Lightning, "
                    'return {"scheduler": sched, "monitor": "val_loss", "reduce_on_plateau": True} '
                    '(a "monitor" alone is ignored for a scheduler that is not torch\'s '
                    "ReduceLROnPlateau); in the HF Trainer, report from a TrainerCallback's on_evaluate.",
                    UserWarning,
                    stacklevel=2,
                )
        return state

    def _extra_state(self) -> dict[str, Any]:
        if self.plateau is None:
            return {}
        return {
            "plateau": _primitive(self.plateau.get_config()),
            "plateau_state": _primitive(dict(self._plateau_state)),
        }

    def _extra_keys(self, state: dict[str, Any]) -> tuple[set[str], set[str]]:
        return set(), {"plateau", "plateau_state"}

    def _check_extra_state(self, state: dict[str, Any], owner: str) -> dict[str, Any]:
        has_cfg, has_state = "plateau" in state, "plateau_state" in state
        if has_cfg != has_state:
            missing = "plateau_state" if has_cfg else "plateau"
            raise ValueError(
                f"{owner}: `state_dict` is missing [{missing!r}] (a plateau checkpoint holds both "
                f"'plateau' and 'plateau_state'). Received keys: {sorted(map(str, state))}"
            )
        saved: Any = None
        saved_state: Any = None
        if has_cfg:
            from lrkit._plateau import ReduceOnPlateau

            try:
                saved = ReduceOnPlateau.from_config(state["plateau"])
            except (TypeError, ValueError) as e:
                raise ValueError(f"{owner}: `plateau` is not a valid plateau config: {e}") from None
            lacking = sorted(set(saved.get_config()) - set(state["plateau"]))
            if lacking:  # a default filled in would hide a settings mismatch
                raise ValueError(
                    f"{owner}: `plateau` lacks setting(s) {lacking}; a checkpoint holds every setting. "
                    f"Received: plateau={state['plateau']!r}"
                )
            saved_state = saved.check_state(state["plateau_state"], "plateau_state")
        mine = self.plateau
        if self.resume == "checkpoint":
            return {"plateau": saved, "_plateau_state": saved_state}
        if self.resume == "override":
            if mine is None:
                return {}
            if saved_state is None:
                return {"_plateau_state": mine.initial_state()}
            return {"_plateau_state": mine.check_state(saved_state, "plateau_state")}
        if (saved is None) != (mine is None):
            raise ValueError(
                f"{owner}: the checkpoint was saved {'with' if saved is not None else 'without'} a plateau "
                f"rule but this scheduler has {'one' if mine is not None else 'none'}; refusing to resume "
                f'with resume="strict" (pass resume="checkpoint" or "override"). '
                f"Received: plateau={state.get('plateau')!r}"
            )
        if saved is not None and saved != mine:
            raise ValueError(
                f"{owner}: the checkpoint was saved with different plateau settings; refusing to resume "
                f'with resume="strict" (pass resume="checkpoint" or "override"). Received: '
                f"plateau={saved!r}, this scheduler has plateau={mine!r}"
            )
        return {} if saved_state is None else {"_plateau_state": saved_state}


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

    Same contract as :class:`LRScheduler`: after ``k`` updates the entry ``name`` of every param
    group holds ``schedule(k)`` (absolute values, closed form), the constructor writes
    ``schedule(0)``, ``clock`` and ``resume`` mean the same, and ``state_dict()`` holds
    primitives only. It is a
    ``torch.optim.lr_scheduler.LRScheduler`` too, so trainers that step a list of schedulers
    accept it; ``get_last_lr()`` reports the groups' learning rates (untouched here) and
    :meth:`get_last_value` the scheduled values. Use one instance per hyperparameter, next to an
    :class:`LRScheduler`, and step them together.

    ``name`` is a key every param group has (``"momentum"``, ``"weight_decay"``, ``"eps"``,
    ``"dampening"``, ...), or ``"beta1"``/``"beta2"``, which write the first/second entry of
    Adam-style ``betas`` tuples (the other entry is kept). Tensor entries are filled in place:
    under ``torch.compile`` make the driven entries tensors
    (``betas=(torch.tensor(0.9), torch.tensor(0.999))``, ``momentum=torch.tensor(0.9)``), since
    a new Python float in a compiled ``optimizer.step`` forces a recompile (lrkit warns once when
    it sees a compiled step with a float entry it drives).

    Args:
      optimizer: a ``torch.optim.Optimizer``.
      name: the param-group entry to drive (a string, see above).
      schedule: one lrkit ``Schedule`` for every param group, or a list with one per group.
      clock: ``"scheduler"`` (default) or ``"optimizer"``, as in :class:`LRScheduler`.
      resume: ``"strict"`` (default), ``"checkpoint"`` or ``"override"``, as in :class:`LRScheduler`.
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
        clock: str = "scheduler",
        resume: str = "strict",
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
        super().__init__(optimizer, schedule, last_epoch, clock, resume, total_steps)

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

    def _group_entries(self, optimizer: Any) -> list[tuple[str, Any]]:
        key, beta = self._key, self._beta
        where = f"[{key!r}]" + ("" if beta is None else f"[{beta}]")
        return [
            (f"param_groups[{i}]{where}", g[key] if beta is None else g[key][beta])
            for i, g in enumerate(optimizer.param_groups)
        ]

    def _float_entries(self) -> list[str]:
        out = []
        for i, g in enumerate(self.optimizer.param_groups):
            v = g[self._key] if self._beta is None else g[self._key][self._beta]
            if not isinstance(v, _Tensor):
                where = f"[{self._key!r}]" + ("" if self._beta is None else f"[{self._beta}]")
                out.append(f"param_groups[{i}]{where}")
        return out

    def _get_closed_form_lr(self) -> list[Any]:
        # torch's SequentialLR enters a child at its milestone with `_update_lr(0)`, which writes
        # what this returns into "lr": write the driven entry at the (reset) step, keep the lrs.
        self._apply()
        return [_copy(g["lr"]) for g in self.optimizer.param_groups]

    def get_last_value(self) -> list[float]:
        """The value this scheduler last wrote into each param group."""
        return list(self._last_value)

    def _extra_state(self) -> dict[str, Any]:
        return {"name": self.name}

    def _extra_keys(self, state: dict[str, Any]) -> tuple[set[str], set[str]]:
        return {"name"}, set()

    def _check_extra_state(self, state: dict[str, Any], owner: str) -> dict[str, Any]:
        if state.get("name") != self.name:
            raise ValueError(
                f"{owner}: the checkpoint drives {state.get('name')!r} but this "
                f"scheduler drives {self.name!r}; refusing to resume. Received: name={state.get('name')!r}"
            )
        return {}


def _numeric(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, _Tensor):
        return v.numel() == 1 and not v.dtype.is_complex
    return isinstance(v, numbers.Real) and math.isfinite(float(v))


# Learning-rate range test loop (lrkit/backends/_torch_range.py), re-exported here:
from lrkit.backends._torch_range import lr_range_test  # noqa: E402

__all__ += ["lr_range_test"]

"""The ``Schedule`` base class: evaluation, dispatch, algebra, repr and configs.

A schedule is a small immutable tree of frozen nodes (``@frozen``, a lean dataclass). Leaves hold one formula each
(``_eval(t, ops)``, branch-free on the step); composition nodes hold children. Everything a user
does with a schedule (call it, print it, save it, compare it, hand it to a framework) goes through
this class, so every node gets it for free.

Ranges (SPEC section 11). Every node declares the values it can reach: ``_range(until)`` returns
``(lo, hi)`` with every value at steps ``0 .. until`` inside ``[lo, hi]``, exact or safely bounded
(a few ulps of slack where a formula rounds). ``Schedule.__init__`` calls ``_range(MAX_STEP)`` once,
right after ``__post_init__``, and caches the result as ``bounds``; a node whose arguments would let
a value overflow, turn NaN or go negative anywhere up to ``MAX_STEP`` refuses there, naming the
argument to blame (``_errors.reach``). To add a node:

* a leaf computes its bounds from its arguments (usually the hull of its end values, through
  ``_schedules._padded`` when the formula rounds), evaluating monotone formulas at ``until`` the
  way ``_eval`` does (``ScalarOps``), so a value that would overflow in ``_eval`` overflows here too;
* a composition combines its children's ``child._range_at(u)``, where ``u`` is the largest step the
  child sees (``Shift`` passes ``until + steps``; most pass ``until``), with the same float
  operations as its ``_eval`` (rounding is monotone, so ``lo * k`` and ``hi * k`` bound ``v * k``);
* both pass the result through ``_errors.reach(kind, argument, (lo, hi), value)``.

``_eval`` itself stays branch-free on the step: the ranges only decide, at construction, what is
accepted.
"""

from __future__ import annotations

import gc
import inspect
import math
import numbers
import os
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from lrkit import _errors
from lrkit._ops import NUMPY_OPS, SCALAR_OPS, Ops

#: Elements per pass of the numpy path (float64 temporaries of 256 KiB stay in cache).
_CHUNK = 1 << 15

#: Arrays of at least this many steps are evaluated on several threads (``_threads``): numpy releases
#: the GIL in its loops and every element is computed on its own, so the split changes no bit.
PARALLEL_MIN = 1 << 18

#: Most breakpoints a periodic node lists (``Schedule.breakpoints``).
MAX_BREAKS = 10_000

#: Deepest nesting of schedules (a leaf is 1 level; ``warmup(cosine(...), 10)`` is 2), in Python, in
#: configs and in SPEC expressions alike (SPEC section 11), so nothing recursive on a schedule
#: (``repr``, ``hash``, ``==``, ``pickle``, evaluation, ...) can reach Python's recursion limit.
MAX_DEPTH = 100
#: Most numbers (and other values) a config may hold (SPEC section 11).
MAX_NUMBERS = 1_000_000

#: Largest step whose value a schedule guarantees finite and non-negative (and the largest
#: duration or count): every integer up to it is exact in float64 (SPEC section 11).
MAX_STEP = _errors.MAX_COUNT

#: Public constructor name -> node class. Filled by ``@register``; ``from_config`` builds only these.
_REGISTRY: dict[str, type[Schedule]] = {}

def _torch_table() -> Ops:
    # An import statement, not importlib: torch.compile traces `import` (it runs it) but refuses to
    # call importlib.import_module, and a compiled function may be the first to meet a tensor.
    from lrkit.backends import _torch_ops

    return _torch_ops.OPS


def _jax_table() -> Ops:
    from lrkit.backends import _jax_ops

    return _jax_ops.OPS


# Array types recognised without importing their library (einops / array-api-compat style):
# (top-level module, attribute path of the array class, the Ops table's loader).
_ARRAY_BACKENDS = (
    ("torch", "Tensor", _torch_table),
    ("jax", "Array", _jax_table),
)


#: Marks a field without a default.
MISSING: Any = type("MISSING", (), {"__repr__": lambda self: "MISSING"})()


class FrozenScheduleError(AttributeError):
    """A schedule is immutable: its fields cannot be set or deleted."""


class Field:
    """One constructor argument of a node: its name and default (``MISSING`` if required)."""

    __slots__ = ("default", "name")

    def __init__(self, name: str, default: Any) -> None:
        self.name, self.default = name, default

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.default!r})"


def frozen(cls: type[Schedule]) -> type[Schedule]:
    """Make ``cls`` an immutable node whose fields are its annotated class attributes, in order.

    Like ``dataclass(frozen=True, slots=True)`` (positional/keyword ``__init__`` then
    ``__post_init__``, equality and hashing by fields, no assignment, ``__slots__`` so there is no
    ``__dict__`` to write to) without generating code per class, which would cost ``import lrkit``
    a few milliseconds per node type. The class is rebuilt with ``__slots__``: one per field, and
    one per private attribute a method sets with ``_set(self, "_name", ...)`` (any string constant
    ``"_name"`` in the class's code that is not already an attribute gets a slot).
    """
    inherited: dict[str, Field] = {}
    for klass in cls.__mro__[1:]:
        if issubclass(klass, Schedule) and klass._fields:
            inherited = {f.name: f for f in klass._fields}
            break
    fields = dict(inherited)
    for name, ann in inspect.get_annotations(cls).items():
        if "ClassVar" not in str(ann):
            fields[name] = Field(name, cls.__dict__.get(name, MISSING))
    taken = {n for k in cls.__mro__[1:] for n in _slots_of(k)}
    private = sorted(
        n for n in _private_names(cls) if n not in taken and n not in fields and not hasattr(cls, n)
    )
    ns = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__", *fields)}
    ns["__slots__"] = tuple(n for n in (*fields, *private) if n not in taken)
    new = type(cls)(cls.__name__, cls.__bases__, ns)
    new._fields = tuple(fields.values())
    new._names = tuple(fields)
    prop = new.__dict__.get("duration")
    if isinstance(prop, property) and prop.fget is not None:
        new.duration = property(_bound_only(prop.fget), doc=prop.__doc__)  # type: ignore[assignment]
    return new


def _slots_of(klass: type) -> tuple[str, ...]:
    slots = klass.__dict__.get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)


def _private_names(cls: type) -> set[str]:
    """String constants ``"_name"`` (one leading underscore, an identifier) in the class's code."""
    out: set[str] = set()
    codes = [v.__code__ for v in cls.__dict__.values() if hasattr(v, "__code__")]
    codes += [f.__code__ for v in cls.__dict__.values() if isinstance(v, property)
              for f in (v.fget, v.fset) if f is not None]
    while codes:
        code = codes.pop()
        for c in code.co_consts:
            if isinstance(c, str) and c.startswith("_") and not c.startswith("__") and c.isidentifier():
                out.add(c)
            elif hasattr(c, "co_consts"):
                codes.append(c)
    return out


def _bound_only(fget: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``duration`` of a schedule with percentages left raises (its length is not known yet)."""

    def duration(self: Any) -> Any:
        if self._unbound:
            raise _errors.unbound_error(f"{self.kind}.duration", _percent_text(self))
        return fget(self)

    return duration


def _has_percent(v: Any) -> bool:
    if isinstance(v, Schedule):
        return v._unbound
    if isinstance(v, tuple):
        if set(map(type, v)) <= {int, float}:  # long lists of numbers: checked in C
            return False
        return any(_has_percent(x) for x in v)
    return isinstance(v, _errors.Percent)


def _percents(v: Any) -> list[str]:
    if isinstance(v, Schedule):
        return [p for n in v._names for p in _percents(getattr(v, n))]
    if isinstance(v, tuple):
        return [p for x in v for p in _percents(x)]
    return [v.text] if isinstance(v, _errors.Percent) else []


def threads() -> int:
    """Threads a large numpy evaluation may use: ``LRKIT_NUM_THREADS`` if set, else the CPUs this
    process may run on, at most 4."""
    raw = os.environ.get("LRKIT_NUM_THREADS", "").strip()
    if raw:
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValueError(f"LRKIT_NUM_THREADS must be a positive integer. Received: {raw!r}")
        return int(raw)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(4, cpus)


def _spans(n: int) -> list[tuple[int, int]]:
    """``0 .. n`` cut in one contiguous span per thread, on chunk borders; one span below ``PARALLEL_MIN``."""
    k = min(threads(), n // (PARALLEL_MIN // 2)) if n >= PARALLEL_MIN else 1
    if k <= 1:
        return [(0, n)]
    per = -(-n // k // _CHUNK) * _CHUNK
    return [(lo, min(lo + per, n)) for lo in range(0, n, per)]


def _in_threads(run: Callable[[int, Callable[[], bool]], None], k: int) -> None:
    """``run(i, stop)`` for ``i`` in ``0 .. k-1``, ``i = 0`` on this thread, the others on new ones.

    ``stop()`` tells span ``i`` that an earlier span failed (its remaining work is moot); the error
    of the earliest failing span is raised, so which error a bad array gives does not depend on timing.
    """
    import threading

    errors: list[BaseException | None] = [None] * k
    first = [k]  # the earliest failed span

    def work(i: int) -> None:
        try:
            run(i, lambda: first[0] < i)
        except BaseException as exc:  # re-raised on the calling thread
            errors[i] = exc
            first[0] = min(first[0], i)

    workers = []
    for i in range(1, k):
        w = threading.Thread(target=work, args=(i,), name=f"lrkit-eval-{i}", daemon=True)
        try:
            w.start()
        except RuntimeError:  # no new thread (the interpreter is shutting down): this one does it
            work(i)
        else:
            workers.append(w)
    try:
        work(0)
    finally:
        for w in workers:
            w.join()
    for exc in errors:
        if exc is not None:
            raise exc


def _percent_text(s: Any) -> str:
    ps = list(dict.fromkeys(_percents(s)))
    shown = ", ".join(repr(p) for p in ps[:4]) + (", ..." if len(ps) > 4 else "")
    return f"durations in percent of the run ({shown})"


def fields(node: Any) -> tuple[Field, ...]:
    """The fields (constructor arguments) of a node class or instance, in order."""
    return node._fields  # type: ignore[no-any-return]


def register(cls: type[Schedule]) -> type[Schedule]:
    _REGISTRY[cls.kind] = cls
    return cls


def ops_for(step: Any) -> Ops:
    """The operation table for a step value, found without importing any framework."""
    if isinstance(step, (numbers.Real, np.ndarray, np.generic, list, tuple)):
        return NUMPY_OPS
    for module, cls_name, table in _ARRAY_BACKENDS:
        mod = sys.modules.get(module)
        if mod is not None and isinstance(step, getattr(mod, cls_name)):
            return table()
    raise TypeError(
        "lrkit cannot evaluate a schedule at a step of type "
        f"{type(step).__name__}. Received: step={step!r}. Pass an int, a float, a numpy array, "
        "a torch tensor or a jax array."
    )


class Schedule:
    """A learning-rate (or any hyperparameter) schedule: an immutable function of the step.

    ``s(step)`` is the value for the update numbered ``step`` (0-based: the number of updates
    already applied). A Python ``int``/``float`` gives a Python ``float``; a numpy array gives a
    float64 array of the same shape; a torch tensor or jax array gives one of the same library.

    Schedules compose: ``join``, ``warmup``, ``per_epoch``, ``a * b`` (pointwise product),
    ``0.5 * a`` (scaling) and ``a + b`` (pointwise sum). Every schedule round-trips through
    ``to_config()``/``lrkit.from_config()`` and prints as the expression that builds it.

    Examples:
      >>> import lrkit as lk
      >>> s = lk.warmup(lk.cosine(1.0, 0.0, 90), 10) * 0.5
      >>> s
      0.5 * warmup(cosine(1.0, 0.0, 90), 10)
      >>> s(5), s(10), s(100)
      (0.25, 0.5, 0.0)
      >>> s.duration, s.breakpoints(200)
      (100, (10, 100))
    """

    kind: ClassVar[str] = ""
    #: Field names whose values are child schedules (one, or a tuple of them).
    _children: ClassVar[tuple[str, ...]] = ()
    #: Constructor arguments, set by ``@frozen``.
    _fields: ClassVar[tuple[Field, ...]] = ()
    _names: ClassVar[tuple[str, ...]] = ()
    # Per instance: ``_unbound`` is True while a duration is a percentage of the run; ``_bounds`` the
    # reachable values (see the module docstring); ``_depth`` the levels of schedules (1 for a leaf).
    __slots__ = ("_bounds", "_depth", "_unbound")
    #: How ``bind``/``stretch`` retime the node (see ``lrkit._time``): fields that are consecutive
    #: pieces from local step 0, fields holding step positions, and lengths independent of position.
    _chain: ClassVar[tuple[str, ...]] = ()
    _positions: ClassVar[tuple[str, ...]] = ()
    _periods: ClassVar[tuple[str, ...]] = ()
    #: Fields ``_eval`` also accepts as arrays holding one value per piece: on array backends a ``join``
    #: of many leaves of one class evaluates the formula once, with each parameter gathered at the
    #: step's piece (``lrkit._compose._Plan``), instead of once per piece. ``_static`` names the
    #: properties ``_eval`` branches on in Python; leaves evaluated together agree on those and on
    #: every field not gathered. Empty (the default): the leaf is evaluated on its own.
    _gather: ClassVar[tuple[str, ...]] = ()
    _static: ClassVar[tuple[str, ...]] = ()

    # -- construction and identity (what ``dataclass(frozen=True)`` would generate) -------------

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._names
        setattr_ = object.__setattr__
        if len(args) == len(names) and not kwargs:  # every argument given in order: no dict
            for name, v in zip(names, args):
                setattr_(self, name, v)
        else:
            if len(args) > len(names):
                raise TypeError(f"{self.kind}: takes at most {len(names)} arguments ({len(args)} given)")
            values = dict(zip(names, args))
            for name, v in kwargs.items():
                if name not in names:
                    raise _errors.unexpected_keyword(self.kind, name, names)
                if name in values:
                    raise TypeError(f"{self.kind}: got multiple values for argument {name!r}")
                values[name] = v
            for f in self._fields:
                if f.name not in values:
                    if f.default is MISSING:
                        raise TypeError(f"{self.kind}: missing required argument {f.name!r}")
                    values[f.name] = f.default
            for name in names:
                setattr_(self, name, values[name])
        setattr_(self, "_unbound", False)
        self.__post_init__()
        depth = 1 + max((c._depth for c in self._child_nodes()), default=0) if self._children else 1
        if depth > MAX_DEPTH:
            raise _errors.ScheduleError(
                f"{self.kind}: schedules nest at most {MAX_DEPTH} levels deep (composition inside "
                f"composition). Received: a schedule {depth} levels deep"
            )
        setattr_(self, "_depth", depth)
        unbound = False
        for name in names:
            v = getattr(self, name)
            if type(v) is not float and type(v) is not int and _has_percent(v):
                unbound = True
                break
        setattr_(self, "_unbound", unbound)
        # A schedule with percentages left is checked once bound (its durations are unknown yet).
        if unbound:
            setattr_(self, "_bounds", None)
            return
        lo, hi = self._range(MAX_STEP)  # _checked_range, inlined: every constructor runs it
        if type(lo) is not float or type(hi) is not float or not 0.0 <= lo <= hi < math.inf:
            lo, hi = self._checked_range()
        setattr_(self, "_bounds", (lo, hi))

    def __post_init__(self) -> None:
        pass

    # -- ranges (see the module docstring) ----------------------------------------------------

    def _range(self, until: int) -> tuple[float, float]:
        """``(lo, hi)`` bounding every value at steps ``0 .. until``; refuses (``_errors.reach``)
        arguments that would leave finite non-negative values."""
        raise NotImplementedError(f"{type(self).__name__} does not declare its range (`_range`)")

    def _range_at(self, until: int) -> tuple[float, float]:
        """``_range(until)``, from the cache when ``until <= MAX_STEP``."""
        if until <= MAX_STEP:
            return self._bounds  # type: ignore[attr-defined,no-any-return]
        return self._range(until)

    def _checked_range(self) -> tuple[float, float]:
        lo, hi = self._range(MAX_STEP)
        lo, hi = float(lo), float(hi)
        if not 0.0 <= lo <= hi < math.inf:  # a node that forgot to check: refuse anyway
            raise _errors.ScheduleError(
                f"{self.kind}: the arguments would give values in [{lo!r}, {hi!r}]; every value up to "
                f"step 2**53 must be finite and non-negative. Received: {self!r}"
            )
        return lo, hi

    @property
    def bounds(self) -> tuple[float, float]:
        """``(lo, hi)``: every value at steps ``0 .. 2**53`` lies in ``[lo, hi]`` (exact or safely
        bounded; computed once, at construction).

        Examples:
          >>> import lrkit as lk
          >>> lk.join([lk.constant(0.5), lk.piecewise_constant([10], [1.0, 0.25])], [5]).bounds
          (0.25, 1.0)
        """
        if self._unbound:
            raise _errors.unbound_error(f"{self.kind}.bounds", _percent_text(self))
        return self._bounds  # type: ignore[attr-defined,no-any-return]

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self._names)

    def _child_nodes(self) -> list[Schedule]:
        out = []
        for n in self._children:
            v = getattr(self, n)
            out += [c for c in (v if isinstance(v, tuple) else (v,)) if isinstance(c, Schedule)]
        return out

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt through the constructor: the arguments are checked again when unpickled.
        return (self.__class__, self._key())

    def __copy__(self) -> Schedule:
        return self  # immutable: a copy is the schedule itself (like a tuple)

    def __deepcopy__(self, memo: Any) -> Schedule:
        return self

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._key() == other._key()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.__class__, self._key()))

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenScheduleError(f"{self.kind}: schedules are immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenScheduleError(f"{self.kind}: schedules are immutable; cannot delete {name!r}")

    # -- evaluation -------------------------------------------------------------------------

    def _eval(self, t: Any, ops: Ops) -> Any:
        raise NotImplementedError

    def __call__(self, step: Any) -> Any:
        if self._unbound:
            raise _errors.unbound_error(self.kind, _percent_text(self))
        if type(step) is int:
            # Python ints stay ints through the composition nodes (offsets, epochs, boundaries are
            # exact at any size); each leaf converts its local step to float once.
            if step < 0:
                raise ValueError(
                    f"{self.kind}: `step` must be a finite non-negative number. Received: step={step!r}"
                )
            return float(self._eval(step, SCALAR_OPS))
        if type(step) is float or (isinstance(step, numbers.Real) and not isinstance(step, (bool, np.generic))):
            t = float(step)
            if not 0.0 <= t < math.inf:  # also catches NaN
                raise ValueError(
                    f"{self.kind}: `step` must be a finite non-negative number. Received: step={step!r}"
                )
            return float(self._eval(t, SCALAR_OPS))
        if isinstance(step, (bool, np.bool_)):
            raise TypeError(f"{self.kind}: `step` must be a number, not a bool. Received: step={step!r}")
        ops = ops_for(step)
        if ops is NUMPY_OPS:
            return self._eval_numpy(step)
        return ops.evaluate(self, step)

    def _eval_numpy(self, step: Any) -> Any:
        t = np.asarray(step)
        if t.dtype.kind not in "iuf":
            raise TypeError(
                f"{self.kind}: `step` must hold integers or real numbers. "
                f"Received: step of dtype {t.dtype}"
            )
        flat = t.reshape(-1)
        n = flat.size
        out = np.empty(n, dtype=np.float64)
        # Large arrays go through in cache-sized chunks: every formula is a chain of elementwise
        # passes, and chunking keeps their temporaries in cache instead of faulting in fresh
        # pages for each one. Elementwise results do not depend on the chunking.
        integers = t.dtype.kind in "iu"  # finite: checked once, for negatives only
        if integers and n and t.dtype.kind == "i" and flat.min() < 0:
            raise ValueError(
                f"{self.kind}: `step` must be finite and non-negative everywhere. "
                f"Received: step containing {int(flat[flat < 0][0])!r}"
            )
        spans = _spans(n)
        if len(spans) == 1:
            self._fill(flat, out, 0, n, integers)
        else:
            _in_threads(lambda i, later: self._fill(flat, out, *spans[i], integers, later), len(spans))
        out = out.reshape(t.shape)
        # A numpy scalar step gives a numpy float64 scalar (itself a Python float).
        return out[()] if isinstance(step, np.generic) else out

    def _fill(self, flat: np.ndarray, out: np.ndarray, lo: int, hi: int, integers: bool,
              stop: Callable[[], bool] = lambda: False) -> None:
        """``out[lo:hi]`` from the steps ``flat[lo:hi]``, in cache-sized chunks, until ``stop()``."""
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):  # per thread
            for a in range(lo, hi, _CHUNK):
                if stop():
                    return
                chunk = flat[a : min(a + _CHUNK, hi)]
                if chunk.dtype != np.float64:
                    chunk = chunk.astype(np.float64)
                if not integers and not (chunk.min() >= 0.0 and chunk.max() < math.inf):  # NaN fails both
                    bad = float(chunk[~((chunk >= 0.0) & (chunk < math.inf))][0])
                    raise ValueError(
                        f"{self.kind}: `step` must be finite and non-negative everywhere. "
                        f"Received: step containing {bad!r}"
                    )
                out[a : a + len(chunk)] = self._eval(chunk, NUMPY_OPS)

    def _gather_fields(self) -> tuple[str, ...]:
        """The fields this instance lets a ``join`` gather per piece (``_gather`` unless overridden)."""
        return self._gather

    def _eval_fn(self, ops: Ops) -> Callable[[Any], Any]:
        return lambda t: self._eval(t, ops)

    def evaluate(self, step: Any, ops: Ops) -> Any:
        """Evaluate at ``step`` with an explicit operation table (used by the backends).

        No checks or conversions: ``step`` must already be a value of ``ops``'s library (a traced
        JAX counter, a Keras variable, ...).
        """
        return self._eval(step, ops)

    # -- algebra ----------------------------------------------------------------------------

    # Schedules multiply (pointwise product, or scaling by a number), add (pointwise sum, or a
    # constant), divide by a positive number (scaling by its inverse) and take positive powers.
    # Values are non-negative, so `-s` and `a - b` are refused; every refusal is lrkit's one-line
    # message naming the operand, never Python's generic "unsupported operand".

    def __mul__(self, other: Any) -> Schedule:
        from lrkit._compose import product, scale

        if isinstance(other, Schedule):
            return product(self, other)
        return scale(self, _factor("scale", "factor", other, "an lrkit schedule or a real number"))

    def __rmul__(self, other: Any) -> Schedule:
        from lrkit._compose import scale

        return scale(self, _factor("scale", "factor", other, "an lrkit schedule or a real number"))

    def __truediv__(self, other: Any) -> Schedule:
        from lrkit._compose import scale

        if isinstance(other, Schedule):
            raise TypeError(
                f"scale: `divisor` must be a positive real number; dividing by a schedule is not supported "
                f"(multiply by one instead). Received: divisor={other!r}"
            )
        d = _factor("scale", "divisor", other, "a positive real number")
        if not (0.0 < d < math.inf and 1.0 / d < math.inf):
            raise _errors.ScheduleError(
                f"scale: `divisor` must be a finite positive number. Received: divisor={_errors.show(other)}"
            )
        return scale(self, 1.0 / d)

    def __rtruediv__(self, other: Any) -> Schedule:
        raise TypeError(
            "schedule: `x / schedule` is not supported (a schedule can be divided by a positive "
            f"number: schedule / 2). Received: x={_errors.show(other)}"
        )

    def __add__(self, other: Any) -> Schedule:
        from lrkit._compose import add
        from lrkit._schedules import constant

        if isinstance(other, Schedule):
            return add(self, other)
        return add(self, constant(_factor("sum", "other", other, "an lrkit schedule or a real number")))

    def __radd__(self, other: Any) -> Schedule:
        from lrkit._compose import add
        from lrkit._schedules import constant

        return add(constant(_factor("sum", "other", other, "an lrkit schedule or a real number")), self)

    def __sub__(self, other: Any) -> Schedule:
        raise TypeError(
            "schedule: `a - b` is not supported: a schedule's values are non-negative and a difference "
            f"could go below 0 (scale instead: a * 0.5). Received: b={_short_repr(other)}"
        )

    def __rsub__(self, other: Any) -> Schedule:
        raise TypeError(
            "schedule: `a - schedule` is not supported: a schedule's values are non-negative and a "
            f"difference could go below 0. Received: a={_short_repr(other)}"
        )

    def __neg__(self) -> Schedule:
        raise TypeError(
            "schedule: `-schedule` is not supported: a schedule's values are non-negative. "
            f"Received: -{_short_repr(self)}"
        )

    def __pos__(self) -> Schedule:
        return self

    def __pow__(self, exponent: Any) -> Schedule:
        from lrkit._compose import power

        if isinstance(exponent, Schedule):
            raise TypeError(
                "power: `exponent` must be a positive real number, not a schedule. "
                f"Received: exponent={_short_repr(exponent)}"
            )
        return power(self, _factor("power", "exponent", exponent, "a positive real number"))

    def __rpow__(self, base: Any) -> Schedule:
        raise TypeError(
            "power: `x ** schedule` is not supported (a schedule can be raised to a positive number: "
            f"schedule ** 2). Received: x={_short_repr(base)}"
        )

    # -- introspection ----------------------------------------------------------------------

    @property
    def duration(self) -> int | None:
        """Steps after which the value no longer changes, or ``None`` if it never settles."""
        return None

    def breakpoints(self, until: int) -> tuple[int, ...]:
        """Steps ``< until`` at which the definition changes piece.

        Warmup ends, milestones, joins, restarts, the end of a decay: the steps a test should probe
        at ``b - 1``, ``b`` and ``b + 1``. A periodic schedule lists at most its first
        ``MAX_BREAKS`` (10,000) per node.

        Args:
          until: an integer; only breakpoints ``0 < b < until`` are returned.

        Returns:
          A sorted tuple of distinct integers.
        """
        if self._unbound:
            raise _errors.unbound_error(f"{self.kind}.breakpoints", _percent_text(self))
        return tuple(sorted({b for b in self._breaks(int(until)) if 0 < b < until}))

    def _breaks(self, until: int) -> list[int]:
        # A leaf that settles changes piece where it settles (the end of a decay).
        d = self.duration
        return [d] if d else []

    # -- configs ----------------------------------------------------------------------------

    def to_config(self) -> dict[str, Any]:
        """A JSON-serialisable dict; ``lrkit.from_config`` rebuilds an equal schedule."""
        config: dict[str, Any] = {"type": self.kind}
        for f in self._fields:
            v = getattr(self, f.name)
            if f.name in self._children:
                v = [c.to_config() for c in v] if isinstance(v, tuple) else v.to_config()
            elif isinstance(v, tuple):
                v = [str(x) if isinstance(x, _errors.Percent) else x for x in v]
            elif isinstance(v, _errors.Percent):
                v = str(v)
            config[f.name] = v
        return config

    # -- printing ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        parts = []
        for f in self._fields:
            v = getattr(self, f.name)
            required = f.default is MISSING
            if not required and v == f.default and type(v) is type(f.default):
                continue
            text = "[" + ", ".join(map(repr, v)) + "]" if isinstance(v, tuple) else repr(v)
            parts.append(text if required else f"{f.name}={text}")
        return f"{self.kind}({', '.join(parts)})"

    # -- run length: percentages, rounding --------------------------------------------------

    @property
    def unbound(self) -> bool:
        """``True`` while some duration is a percentage of the run (``"5%"``): see :meth:`bind`."""
        return self._unbound

    def bind(self, total_steps: int) -> Schedule:
        """This schedule with every percentage of the run resolved to steps.

        A duration ``"P%"`` becomes ``round(P * total_steps / 100)`` steps, rounded half up. The
        rounding is done on the *positions* where pieces start and end (cumulatively), so pieces
        that together name 100% (a ``join``'s children, ``warmup`` and the schedule after it,
        ``warmup_stable_decay``'s three phases, ``cooldown``'s ``at`` and ``steps``) always sum to
        exactly ``total_steps``, and every whole-step duration stays as written. Inside
        ``per_epoch`` a percentage is of the run's epochs; inside ``per_tokens`` of its tokens.

        Args:
          total_steps: the number of optimizer updates in the run, a positive integer.

        Returns:
          A schedule of the same form with whole-step durations (``self`` if none is a percentage).

        Raises:
          ValueError: ``total_steps`` is not a positive integer, or a percentage resolves to a
            duration the schedule refuses (e.g. ``"1%"`` of 10 steps is 0 steps).

        Examples:
          >>> import lrkit as lk
          >>> s = lk.warmup(lk.cosine(1.0, 0.0, "95%"), "5%")
          >>> s
          warmup(cosine(1.0, 0.0, '95%'), '5%')
          >>> s.unbound, s.bind(total_steps=1001)
          (True, warmup(cosine(1.0, 0.0, 951), 50))
        """
        from lrkit._time import bind

        return bind(self, total_steps)

    def round(self) -> Schedule:
        """Integer values (round half to even): ``lrkit.rounded(self)``.

        Examples:
          >>> import lrkit as lk
          >>> [lk.linear(8.0, 12.0, 8).round()(t) for t in (0, 1, 2, 3)]
          [8.0, 8.0, 9.0, 10.0]
        """
        from lrkit._recipes import rounded

        return rounded(self)

    def _retime(self, rt: Any, offset: Any) -> Schedule:
        """The node with its durations mapped by ``rt`` (``lrkit._time``), its local 0 at ``offset``."""
        from lrkit._time import retime_fields

        return retime_fields(self, rt, offset)

    # -- adapters ---------------------------------------------------------------------------

    def to_torch(self, optimizer: Any, **kwargs: Any) -> Any:
        """``lrkit.backends.torch.LRScheduler(optimizer, self, **kwargs)`` (``total_steps=`` binds percentages)."""
        from lrkit.backends import torch as backend

        return backend.LRScheduler(optimizer, self, **kwargs)

    def to_keras(self, **kwargs: Any) -> Any:
        """``lrkit.backends.keras.LearningRateSchedule(self, **kwargs)`` (``total_steps=`` binds percentages)."""
        from lrkit.backends import keras as backend

        return backend.LearningRateSchedule(self, **kwargs)

    def to_optax(self, *, total_steps: int | None = None) -> Callable[[Any], Any]:
        """``lrkit.backends.optax.schedule(self, total_steps=...)``: an optax ``count -> value`` schedule."""
        from lrkit.backends import optax as backend

        return backend.schedule(self, total_steps=total_steps)

    def plot(self, steps: int | None = None, *, ax: Any = None, total_steps: int | None = None, **kwargs: Any) -> Any:
        """Draw the curve with matplotlib (``pip install 'lrkit[plot]'``); returns the axes.

        ``total_steps`` binds percentages of the run first (see :meth:`bind`).
        """
        from lrkit._plot import plot
        from lrkit._time import resolve

        return plot(resolve("plot", self, total_steps), steps=steps, ax=ax, **kwargs)


def _factor(owner: str, name: str, v: Any, kind: str) -> Any:
    """``v`` if it is a real number (not a bool), else lrkit's ``TypeError`` naming the operand."""
    if isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)):
        return v
    what = "a bool" if isinstance(v, (bool, np.bool_)) else f"of type {type(v).__name__}"
    raise TypeError(f"{owner}: `{name}` must be {kind}, not {what}. Received: {name}={_short_repr(v)}")


def _short_repr(v: Any, n: int = 120) -> str:
    text = _errors.show(v)
    return text if len(text) <= n else text[: n - 3] + "..."


def from_config(config: Any) -> Schedule:
    """Rebuild a schedule from ``Schedule.to_config()``.

    Only lrkit's own schedule types are ever built: nothing is imported, no code is run. Unknown
    types, unknown or missing keys and values of the wrong kind raise ``ValueError``/``TypeError``.
    Before anything is built, a config nesting schedules more than ``MAX_DEPTH`` (100) levels deep
    or holding more than ``MAX_NUMBERS`` (1,000,000) numbers is refused with ``ValueError``; a dict
    or list used in several places counts as many times as it appears (SPEC section 11).

    Args:
      config: a dict made by ``Schedule.to_config()`` (or read back from its JSON).

    Returns:
      A ``Schedule`` equal to the one that made ``config``.

    Examples:
      >>> import json
      >>> import lrkit as lk
      >>> s = lk.warmup(lk.cosine(1.0, 0.1, 90), 10)
      >>> lk.from_config(json.loads(json.dumps(s.to_config()))) == s
      True
    """
    # A config builds an acyclic tree: the cyclic garbage collector's passes over it as it grows
    # (a fifth of the time for 100,000 pieces) can free nothing, so they wait until it is built.
    collecting = gc.isenabled()
    gc.disable()
    try:
        _check_size(config)
        return _from_config(config, "config", {})
    finally:
        if collecting:
            gc.enable()


_SCALARS = {int, float, str, bool, type(None)}


def _check_size(config: Any) -> None:
    """Refuse a config too deep or too large, before building anything (SPEC section 11).

    Iterative (no recursion, whatever the nesting) and memoised by ``id``: a dict or list shared by
    reference is visited once but counted as often as it appears, so a config that would expand to
    a huge tree is measured by the tree it would build. Depth counts schedules (dicts); lists and
    tuples may add at most one level per schedule (a ``join``'s ``schedules``). A config that
    contains itself is refused too.
    """
    limit_containers = 2 * MAX_DEPTH + 1
    memo: dict[int, tuple[int, int, int]] = {}  # id -> (schedule depth, container depth, values)
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(config, False)] if isinstance(config, (dict, list, tuple)) else []

    def items(node: Any) -> Any:
        if isinstance(node, dict):
            return node.values()
        return () if set(map(type, node)) <= _SCALARS else node  # a plain list is checked in C

    def too_deep(depth: int) -> ValueError:
        return _errors.ScheduleError(
            f"from_config: `config` must nest schedules at most {MAX_DEPTH} levels deep. "
            f"Received: a config nested more than {depth - 1} levels deep"
        )

    while stack:
        node, done = stack.pop()
        key = id(node)
        if not done:
            if key in memo:
                continue
            if key in on_path:
                raise _errors.ScheduleError("from_config: `config` contains itself (a reference cycle)")
            on_path.add(key)
            stack.append((node, True))
            for c in items(node):
                if isinstance(c, (dict, list, tuple)) and id(c) not in memo:
                    if type(c) is dict and set(map(type, c.values())) <= _SCALARS:
                        memo[id(c)] = (1, 1, len(c))  # a leaf's config (numbers only): measured here
                    else:
                        stack.append((c, False))
            continue
        on_path.discard(key)
        depth = containers = count = 0
        kids = items(node)
        if kids == ():
            count = len(node)
        for c in kids:
            if isinstance(c, (dict, list, tuple)):
                d, k, n = memo[id(c)]
                depth, containers, count = max(depth, d), max(containers, k), count + n
            elif hasattr(c, "__len__") and not isinstance(c, (str, bytes)):
                count += max(1, int(getattr(c, "size", None) or len(c)))
            else:
                count += 1
            if count > MAX_NUMBERS:
                raise _errors.ScheduleError(
                    f"from_config: `config` must hold at most {MAX_NUMBERS:,} numbers. "
                    f"Received: a config with more than {MAX_NUMBERS:,}"
                )
        depth += isinstance(node, dict)
        containers += 1
        if depth > MAX_DEPTH:
            raise too_deep(depth)
        if containers > limit_containers:
            raise too_deep((containers + 1) // 2)
        memo[key] = (depth, containers, count)


def _from_config(config: Any, where: Any, built: dict[int, Schedule]) -> Schedule:
    # A dict used in several places is built once: schedules are immutable, so sharing is safe.
    done = built.get(id(config))
    if done is not None:
        return done
    out = _build(config, where, built)
    built[id(config)] = out
    return out


def _path(where: Any) -> str:
    """The text of a place in a config: ``where`` is ``"config"`` or ``(parent, field, index or None)``,
    formatted only when an error names it."""
    parts = []
    while not isinstance(where, str):
        where, name, i = where
        parts.append(f".{name}" if i is None else f".{name}[{i}]")
    return where + "".join(reversed(parts))


def _build(config: Any, where: Any, built: dict[int, Schedule]) -> Schedule:
    if not isinstance(config, dict):
        raise TypeError(
            f"from_config: `{_path(where)}` must be a dict made by Schedule.to_config(). "
            f"Received: {_path(where)}={config!r} of type {type(config).__name__}"
        )
    kind = config.get("type")
    if not isinstance(kind, str) or kind not in _REGISTRY:
        hint = ""
        if isinstance(kind, str):
            import difflib  # only on this error path: ``import lrkit`` stays light

            close = difflib.get_close_matches(kind, list(_REGISTRY), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
        raise _errors.ScheduleError(
            f"from_config: `{_path(where)}.type` must be one of {sorted(_REGISTRY)}. "
            f"Received: type={kind!r}.{hint}"
        )
    cls = _REGISTRY[kind]
    accepted, required, pairs = _CONFIG_KEYS.get(cls) or _config_keys(cls)
    if not accepted.issuperset(config):
        unknown = sorted(set(config) - accepted)
        raise _errors.ScheduleError(
            f"from_config: {kind} has no argument(s) {unknown}; it takes {sorted(cls._names)}. "
            f"Received: {_path(where)}={config!r}"
        )
    if not required <= config.keys():
        missing = [f.name for f in cls._fields if f.name in required and f.name not in config]
        raise _errors.ScheduleError(
            f"from_config: {kind} needs argument(s) {missing}. Received: {_path(where)}={config!r}"
        )
    # Positional arguments in field order (defaults filled in): the constructor's fast path.
    args: list[Any] = []
    get, children = config.get, cls._children
    for name, default in pairs:
        v = get(name, default)
        kind_of = type(v)
        if kind_of is float or kind_of is int or kind_of is str or kind_of is bool:
            pass
        elif name in children:
            if isinstance(v, list):
                v = tuple(_from_config(c, (where, name, i), built) for i, c in enumerate(v))
            else:
                v = _from_config(v, (where, name, None), built)
        elif isinstance(v, list):
            v = tuple(v)
        elif isinstance(v, dict):
            raise TypeError(
                f"from_config: `{_path(where)}.{name}` must be a number, string or list. Received: {name}={v!r}"
            )
        args.append(v)
    return cls(*args)


#: Per node class: the keys its config may hold (``type`` and its fields), the required fields, and
#: ``(name, default)`` of every field in order.
_CONFIG_KEYS: dict[type, tuple[frozenset[str], frozenset[str], tuple[tuple[str, Any], ...]]] = {}


def _config_keys(cls: type[Schedule]) -> tuple[frozenset[str], frozenset[str], tuple[tuple[str, Any], ...]]:
    keys = _CONFIG_KEYS[cls] = (
        frozenset(("type", *cls._names)),
        frozenset(f.name for f in cls._fields if f.default is MISSING),
        tuple((f.name, f.default) for f in cls._fields),
    )
    return keys


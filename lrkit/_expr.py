"""Schedule expressions for the command line, parsed with ``ast`` and a whitelist, never evaluated.

A SPEC such as ``"warmup(cosine(3e-4, 3e-5, 10000), 500)"`` is parsed into an ``ast`` tree and
walked node by node. Only these forms are accepted:

* numbers (``3e-4``, ``-1``, ``10_000``), strings, ``True``/``False``/``None``, lists and tuples;
* calls to lrkit's own constructors and text-friendly ports (``cosine(...)``, ``join([...], [...])``,
  ``from_optax("cosine_decay_schedule", ...)``, ``from_transformers("cosine", lr=...)``) with
  positional and keyword arguments;
* ``+``, ``*`` and ``**`` between schedules and numbers, ``/`` by a number, unary ``-``/``+`` on
  numbers.

Numbers are limited like configs (SPEC section 11): schedules nest at most 100 levels deep (the
expression itself at most ``MAX_DEPTH`` levels, calls, lists and operators counted), the text holds
at most ``MAX_LENGTH`` characters (so far fewer than a config's 1,000,000 numbers), integers have
at most ``MAX_INT_BITS`` bits and durations are at most ``2**53`` (the constructors refuse more).

Everything else (attribute access, other names, subscripts, comprehensions, lambdas, ``*args``,
f-strings, huge exponents, ...) raises :class:`SpecError` naming what was found and where. No Python
code from the SPEC is ever run: the walker calls only the constructors listed in :data:`CALLABLE`.
"""

from __future__ import annotations

import ast
import numbers
import warnings
from collections.abc import Callable
from typing import Any

from lrkit import _errors

#: Longest SPEC text accepted (characters).
MAX_LENGTH = 10_000
#: Deepest nesting of calls/lists/operators accepted: a 100-level schedule (the most a schedule
#: nests, ``lrkit._base.MAX_DEPTH``) with a list at each level fits.
MAX_DEPTH = 2 * 100 + 1
#: Largest ``|exponent|`` in ``number ** number`` and largest integer (in bits) a SPEC may build.
MAX_EXPONENT = 64
MAX_INT_BITS = 4096

#: Ports that need a framework object: not writable as text.
OBJECT_PORTS = ("from_torch", "from_keras")


class SpecError(_errors.ScheduleError):
    """A SPEC expression uses a form outside the whitelist (a ``ValueError``)."""


def _callables() -> dict[str, Callable[..., Any]]:
    import lrkit

    # Only what builds a schedule: the constructors and the text-friendly ports.
    skip = {"from_config", "lr_range_test", "range_test_ramp"}
    skip.update(OBJECT_PORTS)
    return {n: getattr(lrkit, n) for n in lrkit.__all__ if n[0].islower() and n not in skip}


def callable_names() -> list[str]:
    """The constructor and port names a SPEC may call, sorted."""
    return sorted(_callables())


def parse(text: str) -> Any:
    """Parse a SPEC expression into a schedule (or, for sub-expressions, a plain value).

    Args:
      text: the expression, e.g. ``"0.5 * cosine(1.0, 0.0, 100)"``; at most ``MAX_LENGTH`` characters.

    Returns:
      The ``lrkit.Schedule`` the expression builds.

    Raises:
      SpecError: a form outside the whitelist, a syntax error, or a result that is not a schedule.
      ValueError, TypeError: a constructor refused its arguments (its own message).

    Examples:
      >>> from lrkit._expr import parse
      >>> round(parse("warmup(cosine(1.0, 0.0, 90), 10)")(55), 6)
      0.5
      >>> parse("__import__('os')")  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      lrkit._expr.SpecError: SPEC: `__import__` is not an lrkit constructor (at column 1). ...
    """
    from lrkit._base import Schedule

    if not isinstance(text, str):
        raise TypeError(f"SPEC: `spec` must be a string. Received: spec={text!r}")
    if len(text) > MAX_LENGTH:
        raise SpecError(f"SPEC: `spec` must be at most {MAX_LENGTH} characters. Received: {len(text)} characters")
    if not text.strip():
        raise SpecError("SPEC: `spec` must be an expression such as 'cosine(3e-4, 3e-5, 10000)'. Received: spec=''")
    try:
        with warnings.catch_warnings():  # e.g. SyntaxWarning "invalid decimal literal": we report our own
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        col = f" at column {e.offset}" if e.offset else ""
        raise SpecError(f"SPEC: not a valid expression{col}: {e.msg}. Received: spec={text!r}") from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as e:
        raise SpecError(f"SPEC: cannot parse the expression ({type(e).__name__}). Received: spec={_short(text)}") from None
    value = _Walker(_callables()).walk(tree.body, 0)
    if not isinstance(value, Schedule):
        raise SpecError(
            f"SPEC: the expression must build a schedule, e.g. constant({value!r}). "
            f"Received: a {type(value).__name__}, {_short(repr(value))}"
        )
    return value


def _short(s: str, n: int = 80) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def _is_num(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


_NODE_NAMES = {
    ast.Attribute: "attribute access", ast.Subscript: "a subscript", ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension", ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator",
    ast.Lambda: "a lambda", ast.Dict: "a dict", ast.Set: "a set", ast.JoinedStr: "an f-string",
    ast.IfExp: "a conditional expression", ast.Compare: "a comparison", ast.BoolOp: "`and`/`or`",
    ast.NamedExpr: "an assignment expression", ast.Starred: "*-unpacking", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "a slice",
}

_OPERATORS = {
    ast.Sub: "-", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
    ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^", ast.Invert: "~", ast.Not: "not",
    ast.USub: "-", ast.UAdd: "+",
}


class _Walker:
    def __init__(self, names: dict[str, Callable[..., Any]]) -> None:
        self.names = names

    def refuse(self, node: ast.AST, what: str) -> SpecError:
        col = getattr(node, "col_offset", None)
        where = f" (at column {col + 1})" if col is not None else ""
        return SpecError(
            f"SPEC: found {what}{where}, which a SPEC may not use. A SPEC may use numbers, strings, "
            "lists, keyword arguments, +, *, /, ** and calls to lrkit constructors"
        )

    def walk(self, node: ast.AST, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise SpecError(f"SPEC: the expression is nested more than {MAX_DEPTH} levels deep")
        d = depth + 1
        if isinstance(node, ast.Constant):
            v = node.value
            if v is None or isinstance(v, (bool, int, float, str)):
                if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_INT_BITS:
                    raise self.refuse(node, f"a number above 2**{MAX_INT_BITS}")
                return v
            raise self.refuse(node, f"the constant {_short(repr(v), 40)}")
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.walk(e, d) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.UnaryOp):
            v = self.walk(node.operand, d)
            if isinstance(node.op, (ast.USub, ast.UAdd)) and _is_num(v):
                return -v if isinstance(node.op, ast.USub) else +v
            raise self.refuse(node, f"the operator `{_OPERATORS.get(type(node.op), '?')}` applied to a {type(v).__name__}")
        if isinstance(node, ast.BinOp):
            return self.binop(node, d)
        if isinstance(node, ast.Call):
            return self.call(node, d)
        if isinstance(node, ast.Name):
            if node.id in self.names:
                raise SpecError(
                    f"SPEC: `{node.id}` must be called, e.g. {node.id}(...) (at column {node.col_offset + 1})"
                )
            raise self.unknown_name(node, node.id)
        raise self.refuse(node, _NODE_NAMES.get(type(node), f"a `{type(node).__name__}` expression"))

    def unknown_name(self, node: ast.AST, name: str) -> SpecError:
        col = getattr(node, "col_offset", 0) + 1
        if name in OBJECT_PORTS:
            return SpecError(
                f"SPEC: `{name}` needs a framework object and cannot be written as text (at column "
                f"{col}); port it in Python and save schedule.to_config() to a JSON file, then pass its path"
            )
        import difflib

        close = difflib.get_close_matches(name, list(self.names), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        return SpecError(
            f"SPEC: `{_short(name, 40)}` is not an lrkit constructor (at column {col}).{hint} "
            f"Allowed: {', '.join(sorted(self.names))}"
        )

    def binop(self, node: ast.BinOp, d: int) -> Any:
        from lrkit._base import Schedule

        op = node.op
        if not isinstance(op, (ast.Add, ast.Mult, ast.Pow, ast.Div)):
            raise self.refuse(node, f"the operator `{_OPERATORS.get(type(op), '?')}`")
        a, b = self.walk(node.left, d), self.walk(node.right, d)
        for v in (a, b):
            if not (_is_num(v) or isinstance(v, Schedule)):
                raise self.refuse(node, f"arithmetic on a {type(v).__name__} ({_short(repr(v), 40)})")
        if isinstance(op, ast.Div) and not _is_num(b):
            raise self.refuse(node, "a division by a schedule")
        if isinstance(op, ast.Pow):
            if not _is_num(b):
                raise self.refuse(node, "a schedule as an exponent")
            if _is_num(a):
                if abs(b) > MAX_EXPONENT:
                    raise SpecError(
                        f"SPEC: exponents above {MAX_EXPONENT} in absolute value are not allowed "
                        f"(at column {node.col_offset + 1}). Received: exponent={_short(repr(b), 40)}"
                    )
                if isinstance(a, int) and a.bit_length() * max(abs(b), 1) > MAX_INT_BITS:
                    raise self.refuse(node, f"a number above 2**{MAX_INT_BITS}")
        try:
            if isinstance(op, ast.Add):
                out = a + b
            elif isinstance(op, ast.Mult):
                out = a * b
            elif isinstance(op, ast.Div):
                out = a / b
            else:
                out = a**b
        except (OverflowError, ZeroDivisionError) as e:
            raise SpecError(f"SPEC: arithmetic failed at column {node.col_offset + 1}: {e}") from None
        if isinstance(out, complex):
            raise self.refuse(node, "a complex number")
        if isinstance(out, int) and out.bit_length() > MAX_INT_BITS:
            raise self.refuse(node, f"a number above 2**{MAX_INT_BITS}")
        return out

    def call(self, node: ast.Call, d: int) -> Any:
        if not isinstance(node.func, ast.Name):
            what = "attribute access" if isinstance(node.func, ast.Attribute) else "a call of a computed function"
            raise self.refuse(node.func, what)
        name = node.func.id
        fn = self.names.get(name)
        if fn is None:
            raise self.unknown_name(node.func, name)
        args = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.refuse(a, "*-unpacking")
            args.append(self.walk(a, d))
        kwargs: dict[str, Any] = {}
        for k in node.keywords:
            if k.arg is None:
                raise self.refuse(k.value, "**-unpacking")
            kwargs[k.arg] = self.walk(k.value, d)
        return fn(*args, **kwargs)

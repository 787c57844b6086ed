"""Independent transcriptions of the natives' plateau rules (written from their source, not from lrkit).

``torch_lrs`` follows ``torch.optim.lr_scheduler.ReduceLROnPlateau.step``/``_reduce_lr`` and
``keras_lrs`` follows ``keras.callbacks.ReduceLROnPlateau.on_epoch_end`` (float32 learning-rate
variable, float32 comparisons). Each returns the learning rate in use after every metric.
"""

from __future__ import annotations

import math

import numpy as np


def torch_lrs(metrics, lr, *, mode="min", factor=0.1, patience=10, threshold=1e-4,
              threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
    best = math.inf if mode == "min" else -math.inf
    bad = cd = 0
    out = []
    for a in metrics:
        if mode == "min" and threshold_mode == "rel":
            better = a < best * (1.0 - threshold)
        elif mode == "min":
            better = a < best - threshold
        elif threshold_mode == "rel":
            better = a > best * (threshold + 1.0)
        else:
            better = a > best + threshold
        if better:
            best, bad = a, 0
        else:
            bad += 1
        if cd > 0:
            cd -= 1
            bad = 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cd, bad = cooldown, 0
        out.append(lr)
    return out


def keras_lrs(metrics, lr, *, mode="min", factor=0.1, patience=10, min_delta=1e-4, cooldown=0, min_lr=0.0):
    f32 = np.float32
    lr = float(f32(lr))
    md = abs(min_delta)
    best = None
    wait = cd = 0
    out = []
    for a in metrics:
        if cd > 0:
            cd -= 1
            wait = 0
        if best is None:
            improved = True
        elif mode == "min":
            improved = bool(f32(a + md) < f32(best))
        else:
            improved = bool(f32(a - md) > f32(best))
        if improved:
            best, wait = a, 0
        elif not cd > 0:
            wait += 1
            if wait >= patience and lr > float(f32(min_lr)):
                lr = float(f32(max(lr * factor, min_lr)))
                cd, wait = cooldown, 0
        out.append(lr)
    return out


def torch_scales(metrics, values, **kw):
    """Scales under torch's rules for a schedule whose value at evaluation ``i`` is ``values[i]``."""
    min_lr, eps, factor = kw.get("min_lr", 0.0), kw.get("eps", 1e-8), kw.get("factor", 0.1)
    scale = 1.0
    out = []
    ref = dict(kw)
    for i, _ in enumerate(metrics):
        # One evaluation at a time: replay the counters with a lr that mirrors the composition.
        lr_now = min(values[i], max(values[i] * scale, min_lr))
        ref_out = _torch_step(ref, metrics[i], lr_now)
        if ref_out:
            new = max(lr_now * factor, min_lr)
            if lr_now - new > eps:
                scale *= factor
        out.append(scale)
    return out


def _torch_step(st, a, lr):
    """Counters of torch's rule; returns True when a reduction is due."""
    mode, thr, tm = st.get("mode", "min"), st.get("threshold", 1e-4), st.get("threshold_mode", "rel")
    best = st.setdefault("_best", math.inf if mode == "min" else -math.inf)
    if mode == "min":
        better = a < best * (1 - thr) if tm == "rel" else a < best - thr
    else:
        better = a > best * (thr + 1) if tm == "rel" else a > best + thr
    if better:
        st["_best"], st["_bad"] = a, 0
    else:
        st["_bad"] = st.get("_bad", 0) + 1
    if st.get("_cd", 0) > 0:
        st["_cd"] -= 1
        st["_bad"] = 0
    if st["_bad"] > st.get("patience", 10):
        st["_cd"], st["_bad"] = st.get("cooldown", 0), 0
        return True
    return False

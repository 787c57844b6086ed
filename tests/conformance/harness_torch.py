"""torch harness: a real ``torch.optim.SGD`` driven by ``lrkit.backends.torch.LRScheduler``.

One float64 scalar parameter, reset to 0 before every update, gradient 1: after
``optimizer.step()`` the parameter is ``-lr``, the learning rate the optimizer actually applied.
``scheduler.step()`` is called once per update from step 0 on (so a stepping off-by-one fails),
with a real ``optimizer.step()`` at each probe step; a probe step more than ``SEEK`` steps ahead is
reached by loading a state dict with ``last_epoch`` one short of it and stepping once, as a resumed
run would.
"""

import warnings

import torch

from lrkit.backends.torch import LRScheduler

SEEK = 10_000


class _Torch:
    rtol, atol = 1e-12, 1e-15
    float32 = False
    dtype = torch.float64

    def _optimizer(self, param):  # type: ignore[no-untyped-def]
        return torch.optim.SGD([param], lr=123.0)  # overwritten with schedule(0) by the scheduler

    def applied_lrs(self, schedule, steps):  # type: ignore[no-untyped-def]
        param = torch.zeros((), dtype=self.dtype, requires_grad=True)
        opt = self._optimizer(param)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no order warning may fire in the documented loop
            sched = LRScheduler(opt, schedule)
            applied = {}
            done = 0  # updates applied so far == scheduler.last_epoch
            for t in sorted({int(s) for s in steps}):
                if t - done > SEEK:
                    if done == 0:
                        opt.step()
                    state = sched.state_dict()
                    state["last_epoch"] = t - 1
                    sched.load_state_dict(state)
                    sched.step()
                    done = t
                while done < t:  # updates between probes: only the scheduler's count matters
                    if done == 0:
                        opt.step()  # torch warns if the first scheduler.step() precedes opt.step()
                    sched.step()
                    done += 1
                with torch.no_grad():
                    param.zero_()
                param.grad = torch.ones((), dtype=self.dtype)
                opt.step()
                applied[t] = -param.item()
                sched.step()
                done += 1
            assert sched.last_epoch == done
        return [applied[int(t)] for t in steps]


class _TorchFloat32(_Torch):
    """A float32 parameter and a float32 *tensor* lr (what ``capturable``/compiled optimizers use):
    the scheduler fills the tensor in place, so the update applies ``float32(s(k))``."""

    float32 = True
    dtype = torch.float32

    def _optimizer(self, param):  # type: ignore[no-untyped-def]
        return torch.optim.SGD([param], lr=torch.tensor(123.0))


HARNESS = _Torch()
HARNESS_FLOAT32 = _TorchFloat32()

"""Ports: native recipes in, identical lrkit curves out (SPEC section 4).

Each port copies the native's conventions exactly (boundaries, chainable forms, what happens past
the end). None of them imports a framework unless handed a framework object.

Each port lives in its own module (``lrkit._ports.torch``, ...), imported on first use by
``lrkit.__getattr__``.
"""

"""Build once, share with every session: a process-wide memo for pure builders.

A page rebuilds its figures, captions and tables on every rerun of every session, and with
plotly's validation that cost ~1 s of CPU per /gaps view: a room of people on one server
queued behind it. The inputs of these builders come from cached queries, so the same view
gives the same inputs; `@memo` keys each call by a digest of its pickled arguments (DataFrame
attrs included) and returns the object built the first time.

The result is shared, not copied: callers must treat it as read-only (st.plotly_chart and
st.dataframe copy what they send). Arguments that cannot be pickled (a lambda) skip the memo.
"""
from __future__ import annotations

import functools
import hashlib
import pickle
import threading
from collections import OrderedDict

MAX_ENTRIES = 256


def _attrs(value):
    """DataFrame/Series attrs travel beside their frame (pickle's own handling of them is
    pandas' business, not a promise)."""
    if isinstance(value, (list, tuple)):
        return [_attrs(v) for v in value]
    if isinstance(value, dict):
        return {k: _attrs(v) for k, v in value.items()}
    return getattr(value, "attrs", None) if hasattr(value, "to_numpy") else None


def digest(args: tuple, kwargs: dict) -> bytes | None:
    try:
        payload = pickle.dumps((args, sorted(kwargs.items()), _attrs(list(args)), _attrs(kwargs)), protocol=5)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    return hashlib.blake2b(payload, digest_size=20).digest()


def memo(function=None, *, max_entries: int = MAX_ENTRIES):
    """Decorator: the same arguments give the same (shared) result, least recently used dropped."""
    def decorate(build):
        entries: OrderedDict[bytes, object] = OrderedDict()
        lock = threading.Lock()

        @functools.wraps(build)
        def wrapper(*args, **kwargs):
            key = digest(args, kwargs)
            if key is None:
                return build(*args, **kwargs)
            with lock:
                if key in entries:
                    entries.move_to_end(key)
                    return entries[key]
            value = build(*args, **kwargs)
            with lock:
                entries[key] = value
                while len(entries) > max_entries:
                    entries.popitem(last=False)
            return value

        wrapper.cache_clear = entries.clear
        return wrapper

    return decorate(function) if function is not None else decorate


BUILDER_SUFFIXES = ("_figure", "_table", "_table_view", "_caption", "_map", "_scatter", "_view")


def memo_builders(namespace: dict, suffixes: tuple[str, ...] = BUILDER_SUFFIXES) -> None:
    """Wrap, in a module's namespace, every public function named like a builder (`*_figure`,
    `*_table`, `*_caption`, ...) in `memo`. Called once at the end of a builder module, so its
    functions stay plain to read; they must be pure functions of their arguments."""
    for name, value in list(namespace.items()):
        if (not name.startswith("_") and name.endswith(suffixes) and callable(value)
                and getattr(value, "__module__", None) == namespace["__name__"]):
            namespace[name] = memo(value)

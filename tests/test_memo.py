"""domain/memo.py: builders run once per distinct input and hand back the same object."""
import pandas as pd

from domain.memo import memo, memo_builders


def test_same_arguments_build_once_and_share_the_result():
    calls = []

    @memo
    def table_view(frame, label="x"):
        calls.append(1)
        return frame.assign(label=label)

    frame = pd.DataFrame({"a": [1, 2]})
    first = table_view(frame, label="y")
    assert table_view(frame.copy(), label="y") is first  # equal content, another object: still a hit
    assert len(calls) == 1
    table_view(pd.DataFrame({"a": [1, 3]}), label="y")
    table_view(frame, label="z")
    assert len(calls) == 3


def test_attrs_are_part_of_the_key():
    @memo
    def caption(frame):
        return frame.attrs.get("indicator_name")

    one, two = pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [1]})
    one.attrs["indicator_name"], two.attrs["indicator_name"] = "Graduation", "Absence"
    assert (caption(one), caption(two)) == ("Graduation", "Absence")


def test_unpicklable_arguments_skip_the_memo():
    calls = []

    @memo
    def labelled(values, format_func):
        calls.append(1)
        return [format_func(v) for v in values]

    assert labelled([1], lambda v: f"<{v}>") == ["<1>"]
    assert labelled([1], lambda v: f"[{v}]") == ["[1]"]
    assert len(calls) == 2


def test_least_recently_used_entries_go_first():
    calls = []

    @memo(max_entries=2)
    def square(n):
        calls.append(n)
        return n * n

    for n in (1, 2, 1, 3, 1, 2):
        square(n)
    assert calls == [1, 2, 3, 2]


def test_memo_builders_wraps_public_builders_of_the_module_only():
    namespace = {"__name__": "example"}
    exec("def gap_figure(x): return object()\ndef _private_figure(x): return object()\n"
         "def fmt(x): return object()\n", namespace)
    memo_builders(namespace)
    assert namespace["gap_figure"](1) is namespace["gap_figure"](1)
    assert namespace["_private_figure"](1) is not namespace["_private_figure"](1)
    assert namespace["fmt"](1) is not namespace["fmt"](1)

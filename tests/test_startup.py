"""custseg.startup: the collector paused while a command starts, only where asked."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_pause_and_resume_act_only_in_a_process_that_enabled_them():
    # A process that did not ask (a program calling custseg.cli.main): untouched.
    assert (
        _run(
            """
        import gc
        from custseg import startup
        startup.pause()
        paused = gc.isenabled()
        startup.resume()
        print(paused, gc.isenabled(), gc.get_freeze_count(), gc.get_threshold()[0])
        """
        )
        == "True True 0 700"
    )


def test_resume_freezes_the_start_up_objects_and_widens_the_first_generation():
    assert (
        _run(
            """
        import gc
        from custseg import startup
        startup.enable()
        startup.pause()
        paused = not gc.isenabled()
        import json, decimal  # objects created while paused
        startup.resume()
        frozen = gc.get_freeze_count()
        startup.resume()  # again: harmless
        print(paused, gc.isenabled(), frozen > 1000, gc.get_freeze_count() == frozen,
              gc.get_threshold()[0] == startup.GEN0_THRESHOLD)
        """
        )
        == "True True True True True"
    )


def test_cycles_made_after_start_up_are_still_collected():
    assert (
        _run(
            """
        import gc, weakref
        from custseg import startup
        startup.enable()
        startup.pause()
        startup.resume()
        class Node:
            pass
        a, b = Node(), Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
        gc.collect()
        print(alive() is None)
        """
        )
        == "True"
    )

"""A batch started from a script's unguarded top level is refused before any worker starts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

from ntm_analysis.mainguard import CallSite, reruns_main, unguarded_call_site

NOTEBOOK = Path(__file__).parent / "data" / "notebooks" / "batch_fixture.ipynb"


def _site(tmp_path: Path, source: str, *, file: bool = True,
          spec: bool = False) -> CallSite | None:
    """Run ``source`` as the main module of a script (a real file, real frames); return what
    ``probe()``, called from it, finds."""
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    main = types.ModuleType("__main__")
    if file:
        main.__file__ = str(path)
    if spec:
        main.__spec__ = types.SimpleNamespace(name="tools.report")  # type: ignore[assignment]
    found: list[CallSite | None] = []
    main.probe = lambda: found.append(  # type: ignore[attr-defined]
        unguarded_call_site(sys._getframe(1), main))
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), vars(main))
    (site,) = found
    return site


def test_a_call_at_the_top_level_is_found_with_its_line(tmp_path) -> None:
    site = _site(tmp_path, """\
        import os
        folder = os.getcwd()
        probe()
        """)
    assert site == CallSite(str(tmp_path / "script.py"), 3)


@pytest.mark.parametrize("source", [
    'if __name__ == "__main__":\n    probe()\n',
    'if "__main__" == __name__:\n    probe()\n',
    'import sys\nif __name__ == "__main__" and len(sys.argv) > 0:\n    probe()\n',
    'def main():\n    probe()\n\n\nif __name__ == "__main__":\n    main()\n',
    'if __name__ == "__main__":\n    for _ in range(1):\n        probe()\n',
    # an `if` on __name__ before the call: the script may stop there in a worker
    'import sys\nif __name__ != "__main__":\n    sys.exit(0)\nprobe()\n',
])
def test_a_call_under_an_if_on_the_module_name_is_left_alone(tmp_path, source) -> None:
    assert _site(tmp_path, source) is None


@pytest.mark.parametrize(("source", "line"), [
    ('def main():\n    probe()\n\n\nmain()\n', 5),
    ('for _ in range(1):\n    probe()\n', 2),
    ('try:\n    probe()\nfinally:\n    pass\n', 2),
    # an `if` on something else is no guard
    ('import sys\nif len(sys.argv) > 0:\n    probe()\n', 3),
    # a guard after the call does not protect it
    ('probe()\nif __name__ == "__main__":\n    pass\n', 1),
])
def test_a_call_reached_from_unguarded_top_level_code_is_found(tmp_path, source, line) -> None:
    site = _site(tmp_path, source)
    assert site is not None and site.line == line


def test_only_a_main_module_that_workers_re_run_counts(tmp_path) -> None:
    # the interactive interpreter, `python -c`, a notebook's kernel: nothing to re-run
    assert _site(tmp_path, "probe()\n", file=False) is None
    # `python -m package.module`: imported again by name
    assert _site(tmp_path, "probe()\n", file=False, spec=True) == CallSite(
        str(tmp_path / "script.py"), 1)
    assert reruns_main(None) is False


def test_a_call_from_another_module_or_unreadable_source_is_left_alone(tmp_path) -> None:
    main = types.ModuleType("__main__")
    main.__file__ = str(tmp_path / "script.py")
    # this test's frames are not the main module's top level
    assert unguarded_call_site(sys._getframe(), main) is None
    # the main module's code, but its file is gone (or was never Python)
    code = compile("site = probe()\n", str(tmp_path / "gone.py"), "exec")
    main.probe = lambda: unguarded_call_site(sys._getframe(1), main)  # type: ignore[attr-defined]
    exec(code, vars(main))
    assert vars(main)["site"] is None


def _script(tmp_path: Path, body: str) -> Path:
    """A user's script running a batch of one commune with the fixture notebook."""
    from ntm_analysis.synth import write_province

    raw = tmp_path / "raw"
    raw.mkdir()
    write_province(raw, communes=1, hamlets=(2, 2), year=2024, seed=5)
    script = tmp_path / "make_reports.py"
    script.write_text(textwrap.dedent(f"""\
        from ntm_analysis.batch import plan_from_raw_dir, run_batch


        def make_reports():
            plan = plan_from_raw_dir({str(raw)!r}, processed_dir={str(tmp_path / "processed")!r})
            result = run_batch(plan, notebook={str(NOTEBOOK)!r}, out_dir={str(tmp_path / "out")!r},
                               workers=1)
            print([outcome.status for outcome in result.outcomes])


        """) + textwrap.dedent(body), encoding="utf-8")
    return script


def _run(script: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` as a user would: ``python script.py`` in its folder."""
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=script.parent, timeout=300)


@pytest.mark.slow
def test_an_unguarded_script_is_refused_before_any_worker_starts(tmp_path) -> None:
    script = _script(tmp_path, "make_reports()\n")
    done = _run(script)
    assert done.returncode == 1, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    line = script.read_text(encoding="utf-8").splitlines().index("make_reports()") + 1
    assert last.startswith("ntm_analysis.errors.UsageError: run_batch was called from the top "
                           f"level of {script} (line {line})")
    assert 'if __name__ == "__main__":' in last and "ntm batch" in last
    assert "BrokenProcessPool" not in done.stderr
    # refused before anything was written: not even the output folder
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_the_same_script_guarded_runs_its_batch(tmp_path) -> None:
    script = _script(tmp_path, 'if __name__ == "__main__":\n    make_reports()\n')
    done = _run(script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['ok']"


@pytest.mark.slow
def test_a_worker_re_running_an_unguarded_batch_says_so(tmp_path) -> None:
    """A script whose guard cannot be judged (an `if` on __name__ before the batch) starts
    its workers; each re-runs the script as it starts and stops at the batch with the cause,
    and the parent records the runs as failed (their workers died as they started)."""
    script = tmp_path / "odd_script.py"
    script.write_text(textwrap.dedent(f"""\
        import sys

        from ntm_analysis.batch import BatchRun, run_batch

        if __name__ != "__main__":
            print("worker starting", file=sys.stderr, flush=True)
        runs = [BatchRun("x_2024", "X", 2024, {{"fail_for": ""}}, ())]
        result = run_batch(runs, notebook={str(NOTEBOOK)!r}, out_dir={str(tmp_path / "out")!r},
                           workers=1)
        print([(outcome.status, outcome.error) for outcome in result.outcomes])
        """), encoding="utf-8")
    done = _run(script)
    assert done.returncode == 0, done.stderr
    # the run never started, and the batch says so (not a bare BrokenProcessPool)
    from ntm_analysis.batch import BROKEN_POOL

    assert done.stdout.strip() == repr([("failed", BROKEN_POOL)])
    assert "worker starting" in done.stderr
    assert ("ntm_analysis.errors.UsageError: run_batch was called while a worker process "
            "re-ran the main module as it started") in done.stderr

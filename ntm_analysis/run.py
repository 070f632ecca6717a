"""Running the suite's notebooks with papermill, one folder per run, with a manifest.

A run folder (e.g. ``outputs/2024/kim-phuong/``) holds::

    <name>.ipynb      the executed notebook (kept, partial, when the run fails)
    <name>.html       the report, no code (only when the run succeeded)
    figures/          charts as PNG (written by the notebook through ``ntm_analysis.outputs``)
    tables/           tables as formatted Excel workbooks
    run_facts.json    facts the notebook recorded with :func:`record_facts`
    manifest.json     parameters, input hashes, versions, files written, status

A run is ``"failed"`` unless the kernel finished without error and every expected output exists
(the HTML and the files the notebook declared with ``record_facts(out_dir, expected=[...])``).

Examples
--------
>>> from ntm_analysis.run import coerce_value
>>> coerce_value("2024", "int", name="year")
2024
>>> coerce_value("a.xlsx", "list[str]", name="paths")
['a.xlsx']
"""

from __future__ import annotations

import ast
import contextlib
import copy
import datetime as dt
import functools
import io
import json
import logging
import os
import platform
import time
import tokenize
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ntm_analysis import build_id
from ntm_analysis.errors import ParameterError, RunError
from ntm_analysis.fsio import RunLock, file_sha256, remove_temporaries, settled_key
from ntm_analysis.i18n import check_lang
from ntm_analysis.outputs import FIGURES, TABLES, atomic_path
from ntm_analysis.paths import (
    ROOT_ENV,
    check_outside,
    project_root,
    require_workbooks,
    resolve,
)
from ntm_analysis.text import slug

logger = logging.getLogger(__name__)

#: Folder of the suite's notebooks, relative to the project root.
NOTEBOOKS_DIR = "notebooks"
#: Folder of run folders, relative to the project root.
OUTPUTS_DIR = "outputs"
#: File names inside a run folder.
MANIFEST = "manifest.json"
FACTS = "run_facts.json"
#: The lock a run holds on its folder while it runs (:class:`ntm_analysis.fsio.RunLock`).
RUN_LOCK = ".ntm-run.lock"
#: Environment variable naming the run folder inside the kernel (for :func:`record_facts`).
RUN_DIR_ENV = "NTM_RUN_DIR"
#: Parameter through which a notebook receives its run folder, when it declares it.
OUT_DIR_PARAM = "out_dir"
#: Parameters whose values name input files (hashed into the manifest).
PATHS_PARAM = "paths"
RAW_DIR_PARAM = "raw_dir"
#: Status words of a run.
STATUS_OK = "ok"
STATUS_FAILED = "failed"
#: Status of a manifest written when a run starts; a run killed midway keeps it.
STATUS_RUNNING = "running"
#: Kernel options: its own start-up chatter (e.g. its TCP notice) is not the user's concern,
#: and a report's cells are no one's IPython history (no SQLite file written and committed by
#: every kernel, no history thread; ``In`` and ``Out`` still work, in memory).
KERNEL_ARGUMENTS = ("--IPKernelApp.log_level=ERROR", "--HistoryManager.enabled=False")

_TRUE = {"true", "yes", "1", "on", "có", "co"}
_FALSE = {"false", "no", "0", "off", "không", "khong"}
_NONE = {"", "none", "null"}


@dataclass(frozen=True)
class NotebookParameter:
    """One line of a notebook's ``parameters`` cell: ``name: type = default  # help``."""

    name: str
    type: str
    default: Any
    help: str


@dataclass
class RunResult:
    """What :func:`run_notebook` produced; ``manifest`` is the content of ``manifest.json``."""

    status: str
    out_dir: Path
    notebook_path: Path
    html_path: Path | None
    manifest_path: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the run succeeded."""
        return self.status == STATUS_OK


# --------------------------------------------------------------------------- parameters


def _parameters_cell(cells: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def _notebook_cells(path: Path) -> list[dict[str, Any]]:
    """Return the cells of a notebook file as plain dicts, each ``source`` one text.

    A version-4 notebook (every notebook of the suite) is read as plain JSON: only the cells'
    text is wanted, so neither nbformat's import nor its schema validation is paid for (the
    validator alone is compiled once per process, about 0.2 CPU s, and a batch reads the
    notebook once per run in its own process and again in each worker); other versions go
    through nbformat, which converts them.
    """
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not (isinstance(data, dict) and data.get("nbformat") == 4
            and isinstance(data.get("cells"), list)):
        import nbformat

        data = nbformat.read(path, as_version=4)
    cells = []
    for cell in data["cells"]:
        source = cell.get("source", "")
        cells.append({**cell, "source": "".join(source) if isinstance(source, list) else source})
    return cells


def parse_parameters_source(
    source: str, *, where: str = "parameters cell"
) -> list[NotebookParameter]:
    """Parse the text of a parameters cell into :class:`NotebookParameter` items.

    Only annotated assignments are read (``name: type = default  # help``); the default is a
    Python literal, or its source text when it is not one.

    Examples
    --------
    >>> [p.name for p in parse_parameters_source('year: int = 2024  # năm\\nlang: str = "vi"')]
    ['year', 'lang']
    >>> parse_parameters_source('hamlet: str | None = None  # xóm')[0].type
    'str | None'
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ParameterError(f"{where}: cannot parse line {exc.lineno}: {exc.msg}") from exc
    comments: dict[int, str] = {}
    with contextlib.suppress(tokenize.TokenError):
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                comments[tok.start[0]] = tok.string.lstrip("#").strip()
    params: list[NotebookParameter] = []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            annotation = ast.unparse(node.annotation).strip("'\"")
            default: Any = None
            if node.value is not None:
                try:
                    default = ast.literal_eval(node.value)
                except ValueError:
                    default = ast.unparse(node.value)
            params.append(NotebookParameter(
                name=node.target.id, type=annotation, default=default,
                help=comments.get(node.end_lineno or node.lineno, ""),
            ))
    return params


def notebook_parameters(notebook: str | os.PathLike[str]) -> dict[str, NotebookParameter]:
    """Return the parameters a notebook declares in its cell tagged ``parameters``, by name.

    The types are read with Python's own parser rather than papermill's ``inspect_notebook``,
    whose pattern does not read annotations such as ``str | None``. A notebook is parsed once
    per process while its file stays the same (:func:`ntm_analysis.fsio.settled_key`; one
    edited in the last two seconds is parsed each time): a batch checks thousands of runs
    against it, and each worker runs it many times.
    """
    path = Path(notebook)
    try:
        key = settled_key(path.stat())
        parsed = (_parsed_parameters(str(path), key) if key is not None  # a file just edited:
                  else _parsed_parameters.__wrapped__(str(path), None))  # parsed, not kept
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ParameterError(f"{path}: cannot read the notebook: {exc}") from exc
    # a default such as ``paths: list = []`` is the caller's own; the others are immutable
    # (a deep copy of them all was a third of a country's dry run)
    return {name: p if isinstance(p.default, _IMMUTABLE) else
            replace(p, default=copy.deepcopy(p.default)) for name, p in parsed.items()}


#: Defaults shared as they are by the copies :func:`notebook_parameters` hands out.
_IMMUTABLE = (str, int, float, complex, bool, bytes, type(None))


@functools.lru_cache(maxsize=32)
def _parsed_parameters(path: str, key: tuple[int, ...] | None) -> dict[str, NotebookParameter]:
    """The parameters of the notebook at ``path`` as it is at ``key`` (``settled_key``: the
    cache's key)."""
    cell = _parameters_cell(_notebook_cells(Path(path)))
    if cell is None:
        return {}
    return {p.name: p for p in parse_parameters_source(cell["source"], where=f"{Path(path).name}"
                                                                             ", parameters cell")}


def _split_optional(type_name: str) -> tuple[str, bool]:
    parts = [p.strip() for p in type_name.replace("Optional[", "").rstrip("]").split("|")] \
        if type_name.startswith("Optional[") else [p.strip() for p in type_name.split("|")]
    optional = "None" in parts
    rest = [p for p in parts if p != "None"]
    return (rest[0] if rest else "str"), optional


def coerce_value(value: Any, type_name: str, *, name: str) -> Any:
    """Convert ``value`` (a CLI string or a Python value) to the declared ``type_name``.

    Strings are converted: ``int``, ``float``, ``bool`` (true/false, yes/no, 1/0, có/không),
    ``list``/``dict`` (JSON; a list also takes one plain string as a one-item list),
    ``X | None`` (``none``/``null``/empty mean None). Other values are checked against the type.

    Examples
    --------
    >>> coerce_value("1,5", "float", name="x")
    Traceback (most recent call last):
    ...
    ntm_analysis.errors.ParameterError: parameter 'x': expected float, got '1,5'
    >>> coerce_value('["a.xlsx", "b.xlsx"]', "list[str]", name="paths")
    ['a.xlsx', 'b.xlsx']
    >>> coerce_value("none", "str | None", name="hamlet") is None
    True
    """
    base, optional = _split_optional(type_name)
    kind = base.split("[", 1)[0].strip().lower()

    def bad() -> ParameterError:
        return ParameterError(f"parameter '{name}': expected {type_name}, got {value!r}")

    if value is None:
        if optional or kind in {"any", "object"}:
            return None
        raise bad()
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        text = value.strip()
        if optional and text.lower() in _NONE:
            return None
        if kind == "str":
            return value
        if kind == "int":
            try:
                return int(text)
            except ValueError:
                raise bad() from None
        if kind == "float":
            try:
                return float(text)
            except ValueError:
                raise bad() from None
        if kind == "bool":
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise bad()
        if kind in {"list", "dict", "tuple"}:
            if text[:1] in "[{":
                try:
                    loaded = json.loads(text)
                except json.JSONDecodeError:
                    raise bad() from None
                return coerce_value(loaded, type_name, name=name)
            if kind in {"list", "tuple"}:
                return [value]
            raise bad()
        return value
    checks: dict[str, tuple[type, ...]] = {
        "str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
        "list": (list, tuple), "tuple": (list, tuple), "dict": (dict,),
    }
    allowed = checks.get(kind)
    if allowed is None:
        return value
    if isinstance(value, bool) and kind in {"int", "float"}:
        raise bad()
    if not isinstance(value, allowed):
        raise bad()
    if kind == "float" and isinstance(value, int | float):
        return float(value)
    if kind in {"list", "tuple"} and isinstance(value, list | tuple):
        return [os.fspath(v) if isinstance(v, os.PathLike) else v for v in value]
    return value


def coerce_parameters(declared: Mapping[str, NotebookParameter], given: Mapping[str, Any], *,
                      notebook: str = "notebook") -> dict[str, Any]:
    """Check ``given`` names against the ``declared`` parameters and convert the values.

    Raises :class:`ParameterError` naming the valid parameters when a name is unknown, a value
    cannot be converted, or ``lang`` is not a language of the reports (vi, en).
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        valid = ", ".join(sorted(declared)) or "(none)"
        raise ParameterError(
            f"{notebook}: unknown parameter(s) {', '.join(unknown)}; valid parameters: {valid}"
        )
    out: dict[str, Any] = {}
    for name, value in given.items():
        try:
            out[name] = coerce_value(value, declared[name].type, name=name)
            if name == "lang":  # the suite's report languages, checked before any kernel
                check_lang(out[name])
        except ParameterError as exc:
            raise ParameterError(f"{notebook}: {exc}") from None
    return out


# --------------------------------------------------------------------------- locations


def find_notebook(notebook: str | os.PathLike[str], *, root: Path | None = None) -> Path:
    """Return the path of ``notebook``: a path, or a bare name like ``10_readiness``.

    Bare names are looked up in ``notebooks/`` of the project root.
    """
    root = root or project_root()
    given = Path(notebook).expanduser()
    candidates = [root / given, given] if not given.is_absolute() else [given]
    if given.suffix != ".ipynb":
        candidates += [root / NOTEBOOKS_DIR / f"{given.name}.ipynb"]
    candidates += [root / NOTEBOOKS_DIR / given.name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
    found = sorted(p.stem for p in (root / NOTEBOOKS_DIR).glob("*.ipynb"))
    hint = f"; the suite has: {', '.join(found)}" if found else ""
    raise ParameterError(f"notebook {os.fspath(notebook)!r} not found{hint}")


def default_run_dir(notebook: str | os.PathLike[str], parameters: Mapping[str, Any], *,
                    root: Path | None = None) -> Path:
    """Return the default run folder: ``outputs/<year>/<commune slug>/`` when the parameters
    hold a year and a commune, else ``outputs/<notebook name>/``.

    Examples
    --------
    >>> default_run_dir("10_readiness.ipynb", {"year": 2024, "commune": "Kim Phượng"},
    ...                 root=Path("/p")).as_posix()
    '/p/outputs/2024/kim-phuong'
    """
    root = root or project_root()
    year, commune = parameters.get("year"), parameters.get("commune")
    if year not in (None, "") and commune:
        return root / OUTPUTS_DIR / str(year) / slug(str(commune))
    return root / OUTPUTS_DIR / Path(notebook).stem


# --------------------------------------------------------------------------- facts and hashes


def record_facts(out_dir: str | os.PathLike[str] | None = None, **facts: Any) -> Path:
    """Record facts about a run (rows read, issues found, expected outputs) in ``run_facts.json``.

    Notebooks call it; the runner copies the facts into the manifest. Facts merge with earlier
    calls; ``expected`` (paths relative to the run folder) accumulates. ``out_dir`` defaults to
    the run folder the runner set in ``$NTM_RUN_DIR``. Values must be JSON-able.

    Examples
    --------
    >>> import tempfile, json
    >>> d = tempfile.mkdtemp()
    >>> _ = record_facts(d, rows_read=12, expected=["tables/a.xlsx"])
    >>> _ = record_facts(d, issues_found=0, expected=["figures/b.png"])
    >>> sorted(read_facts(d).items())
    [('expected', ['figures/b.png', 'tables/a.xlsx']), ('issues_found', 0), ('rows_read', 12)]
    """
    if out_dir is None:
        env = os.environ.get(RUN_DIR_ENV)
        if not env:
            raise ParameterError(f"record_facts: no out_dir given and ${RUN_DIR_ENV} is not set")
        out_dir = env
    current = read_facts(out_dir)
    expected = set(current.get("expected", []))
    for item in facts.pop("expected", None) or []:
        expected.add(Path(os.fspath(item)).as_posix())
    current.update(facts)
    if expected:
        current["expected"] = sorted(expected)
    path = Path(out_dir) / FACTS
    try:
        text = json.dumps(current, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"record_facts: facts must be JSON-able: {exc}") from exc
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def read_facts(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the facts recorded in ``out_dir`` (empty when there are none)."""
    path = Path(out_dir) / FACTS
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RunError(f"{path}: cannot read the run facts: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _is_input_file(path: Path) -> bool:
    name = path.name
    return path.is_file() and not name.startswith((".", "~$"))


def collect_inputs(parameters: Mapping[str, Any], *, inputs: Iterable[str | os.PathLike[str]] |
                   None = None, root: Path) -> list[Path]:
    """Return the input files of a run: ``inputs`` if given, else the files named by the
    ``paths`` parameter and the files under the ``raw_dir`` parameter, resolved, sorted, without
    repeats.
    """
    found: set[Path] = set()
    named: list[Any] = list(inputs) if inputs is not None else []
    if inputs is None:
        paths = parameters.get(PATHS_PARAM)
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        named.extend(paths or [])
    for item in named:
        path = resolve(item, root=root)
        if path.is_dir():
            found.update(p for p in path.rglob("*") if _is_input_file(p))
        elif path.is_file():
            found.add(path)
        else:
            raise ParameterError(f"input file not found: {os.fspath(item)}")
    raw_dir = parameters.get(RAW_DIR_PARAM)
    if inputs is None and raw_dir:
        path = resolve(raw_dir, root=root)
        if path.is_dir():
            found.update(p for p in path.rglob("*") if _is_input_file(p))
        else:
            logger.warning("raw_dir %s does not exist; no input files hashed", path)
    return sorted(p.resolve() for p in found)


def _read_folders(parameters: Mapping[str, Any], inputs: Iterable[str | os.PathLike[str]] | None,
                  *, root: Path) -> list[Path]:
    """The folders a run reads workbooks from: its ``raw_dir`` (the notebook's default
    included: the project's raw folder, which the next run reads), and the folders among its
    ``paths`` or ``inputs``."""
    named = list(inputs) if inputs is not None else []
    paths = parameters.get(PATHS_PARAM)
    named.extend([paths] if isinstance(paths, str | os.PathLike) else paths or [])
    if parameters.get(RAW_DIR_PARAM):
        named.append(parameters[RAW_DIR_PARAM])
    return [p for p in (resolve(item, root=root) for item in named) if p.is_dir()]


def _shown(path: Path, root: Path) -> str:
    return _relative(path.resolve(), root.resolve())


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` (both resolved) in POSIX form, or ``path`` when outside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _describe_files(paths: Iterable[Path], *, base: Path, times: bool = False,
                    resolved: bool = False) -> list[dict[str, Any]]:
    """Path (relative to ``base``), size and SHA-256 of each file; with ``times``, its
    modification time too (a run's outputs: see :func:`stale_reason`). With ``resolved`` the
    paths are taken as resolved already (``collect_inputs`` gives them so): a resolve costs
    about 50 µs a file, and a country's batch checks 3,300 runs' inputs."""
    base = base.resolve()  # once, not per file: a batch describes thousands of runs' inputs
    described = []
    for p in sorted(paths):
        p = p if resolved else p.resolve()
        st = p.stat()
        item = {"path": _relative(p, base), "bytes": st.st_size, "sha256": file_sha256(p)}
        if times:
            item["modified_ns"] = st.st_mtime_ns
        described.append(item)
    return described


def _count_issue_rows(out_dir: Path) -> int | None:
    path = out_dir / TABLES / "issues.xlsx"
    if not path.is_file():
        return None
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        ws = wb.worksheets[0]
        return max(sum(1 for row in ws.iter_rows(values_only=True)
                       if any(v not in (None, "") for v in row)) - 1, 0)
    finally:
        wb.close()


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the kernel process, restoring them afterwards."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"ntm_analysis": build_id(), "python": platform.python_version()}
    for dist in ("papermill", "nbconvert", "pandas"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:  # pragma: no cover
            out[dist] = "unknown"
    return out


def write_manifest(manifest: Mapping[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``manifest.json`` in ``out_dir`` atomically and return its path."""
    path = Path(out_dir) / MANIFEST
    text = json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- fingerprints

#: Fields the runner writes in every manifest (``extra`` fields never replace them).
_OWN_FIELDS = frozenset({
    "notebook", "notebook_sha256", "run_dir", "parameters", "parameters_given", "kernel_name",
    "inputs", "fingerprint", "versions", "library_version", "python_version", "started",
    "finished", "seconds", "status", "error", "failed_cell", "files", "outputs", "missing",
    "error_name", "execution_count",
})


@dataclass(frozen=True)
class RunPlan:
    """A run checked before it starts: notebook, folder, parameters, inputs and fingerprint."""

    notebook: Path
    run_dir: Path
    given: dict[str, Any]
    effective: dict[str, Any]
    inputs: list[dict[str, Any]]
    fingerprint: dict[str, Any]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str, sort_keys=True))


def prepare_run(notebook: str | os.PathLike[str], *,
                parameters: Mapping[str, Any] | None = None,
                out_dir: str | os.PathLike[str] | None = None,
                inputs: Iterable[str | os.PathLike[str]] | None = None,
                kernel_name: str = "python3", root: Path | None = None) -> RunPlan:
    """Check a run without executing it: find the notebook, convert the parameters, hash inputs.

    The result's ``fingerprint`` (notebook hash, kernel, parameters given, input hashes, library
    version) is what :func:`run_notebook` records in the manifest and what
    :func:`is_up_to_date` compares, so a batch can skip a run that would do the same work again.

    Raises
    ------
    ParameterError
        Unknown parameter names, values of the wrong type, missing input files.
    """
    root = root or project_root()
    nb_path = find_notebook(notebook, root=root)
    declared = notebook_parameters(nb_path)
    given = coerce_parameters(declared, dict(parameters or {}), notebook=nb_path.name)
    effective = {n: p.default for n, p in declared.items()} | given
    run_dir = Path(out_dir) if out_dir is not None else default_run_dir(nb_path, effective,
                                                                        root=root)
    run_dir = resolve(run_dir, root=root).resolve()
    check_outside(run_dir, _read_folders(effective, inputs, root=root), what="run folder")
    if OUT_DIR_PARAM in declared:
        given[OUT_DIR_PARAM] = str(run_dir)
        effective[OUT_DIR_PARAM] = str(run_dir)
    described = _describe_files(collect_inputs(effective, inputs=inputs, root=root), base=root,
                                resolved=True)
    fingerprint = {
        "notebook_sha256": file_sha256(nb_path),
        "kernel_name": kernel_name,
        "parameters": _jsonable(given),
        "inputs": {f["path"]: f["sha256"] for f in described},
        "library_version": build_id(),
    }
    return RunPlan(nb_path, run_dir, given, effective, described, fingerprint)


def read_manifest(out_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Return the manifest of a run folder, or None when it is missing or unreadable."""
    path = Path(out_dir) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_up_to_date(out_dir: str | os.PathLike[str], fingerprint: Mapping[str, Any]) -> bool:
    """Return True when ``out_dir`` holds a successful run with this ``fingerprint`` whose files
    are all still there, unchanged (so running it again would only redo the same work).

    A folder whose manifest says ``running`` or ``failed``, whose fingerprint differs, or one of
    whose recorded files is missing or altered (e.g. a run killed while replacing it) is not:
    :func:`stale_reason` says which. A file whose size and modification time are those the
    manifest recorded is taken as unchanged without being read; any other is hashed.
    """
    return stale_reason(out_dir, fingerprint) is None


def stale_reason(out_dir: str | os.PathLike[str], fingerprint: Mapping[str, Any]) -> str | None:
    """Say why the run folder ``out_dir`` is not up to date with ``fingerprint`` (None if it is).

    The reasons, first found first: ``not run yet``; ``its last run did not finish``; ``its
    last run failed: ERROR``; ``the notebook changed``; ``inputs changed: PATH, ...``;
    ``parameters changed: NAME, ...``; ``the kernel changed``; ``the library changed (OLD ->
    NEW)``; ``output changed or missing: PATH``.
    """
    folder = Path(out_dir)
    manifest = read_manifest(folder)
    if manifest is None:
        return "not run yet"
    status = manifest.get("status")
    if status == STATUS_RUNNING:
        return "its last run did not finish"
    if status != STATUS_OK:
        return f"its last run failed: {manifest.get('error') or status}"
    old, new = manifest.get("fingerprint") or {}, _jsonable(dict(fingerprint))
    if old != new:
        return _fingerprint_change(old, new)
    for item in manifest.get("files") or []:
        path = folder / str(item.get("path", ""))
        try:
            st = path.stat()
            # the size and modification time the run recorded: unchanged since, as make and
            # rsync judge (a country's resumed batch would otherwise read 0.9 GB of outputs);
            # any other time (a copy, a touch, an edit) has its content compared
            if st.st_size != item.get("bytes") or (
                    st.st_mtime_ns != item.get("modified_ns")
                    and file_sha256(path) != item.get("sha256")):
                return f"output changed or missing: {item.get('path')}"
        except OSError:
            return f"output changed or missing: {item.get('path')}"
    for name in (manifest.get("outputs") or {}).values():
        if name and not (folder / str(name)).is_file():
            return f"output changed or missing: {name}"
    return None


def _fingerprint_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    def differing(a: Any, b: Any) -> list[str]:
        a, b = a if isinstance(a, dict) else {}, b if isinstance(b, dict) else {}
        return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))

    def listed(names: list[str]) -> str:
        more = f" and {len(names) - 3} more" if len(names) > 3 else ""
        return ", ".join(names[:3]) + more

    if old.get("notebook_sha256") != new.get("notebook_sha256"):
        return "the notebook changed"
    if inputs := differing(old.get("inputs"), new.get("inputs")):
        return f"inputs changed: {listed(inputs)}"
    if names := differing(old.get("parameters"), new.get("parameters")):
        return f"parameters changed: {listed(names)}"
    if old.get("kernel_name") != new.get("kernel_name"):
        return "the kernel changed"
    if old.get("library_version") != new.get("library_version"):
        return f"the library changed ({old.get('library_version')} -> {new.get('library_version')})"
    return "its fingerprint changed"


# --------------------------------------------------------------------------- running


def run_notebook(
    notebook: str | os.PathLike[str],
    *,
    parameters: Mapping[str, Any] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    kernel_name: str = "python3",
    cwd: str | os.PathLike[str] | None = None,
    progress: bool = False,
    inputs: Iterable[str | os.PathLike[str]] | None = None,
    export: bool = True,
    timeout: int | None = None,
    title: str | None = None,
    root: str | os.PathLike[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    warm_kernel: bool = False,
    spare_next: bool = True,
    fork_kernel: bool = False,
    fork_socket: str | None = None,
) -> RunResult:
    """Execute a notebook of the suite with papermill and write its run folder.

    Parameters
    ----------
    notebook : path or name
        A notebook path, or a bare name of a notebook in ``notebooks/`` (``10_readiness``).
    parameters : mapping, optional
        Parameter values; names must be declared in the notebook's ``parameters`` cell, strings
        are converted to the declared types. ``out_dir`` is passed when the notebook declares it.
    out_dir : path, optional
        The run folder (default: :func:`default_run_dir`).
    kernel_name : str
        The Jupyter kernel to use (explicit, never taken from the notebook).
    cwd : path, optional
        Working directory of the kernel (default: the project root).
    progress : bool
        Show papermill's progress bar.
    inputs : paths, optional
        Input files to hash in the manifest (default: the ``paths`` and ``raw_dir`` parameters).
    export : bool
        Write the HTML report beside the executed notebook.
    timeout : int, optional
        Seconds allowed per cell (default: no limit).
    title : str, optional
        Title of the HTML page (default: the report's first heading, else the notebook's name).
    root : path, optional
        The project root (default: :func:`ntm_analysis.paths.project_root`); batch workers get
        it explicitly, since their working directory may differ.
    extra : mapping, optional
        More JSON-able fields for the manifest (a batch adds ``run_id``, ``unit``, ``parent``);
        they never replace the runner's own fields.
    warm_kernel : bool
        Run in this process's spare kernel (:mod:`ntm_analysis.kernels`), started and warmed
        while the previous run executed, and start the next spare; batch workers use it.
    spare_next : bool
        With ``warm_kernel``, start a spare for a next run (false for a worker's last run).
    fork_kernel : bool
        Fork the kernel (and the spare) from this process's kernel fork server
        (:mod:`ntm_analysis.forkserver`): a fresh process, already warm. Plain kernels are
        started when the server cannot start.
    fork_socket : str, optional
        With ``fork_kernel``, the socket of a fork server another process started (a batch
        shares one among its workers) instead of this process's own.

    Returns
    -------
    RunResult
        The run's status, paths and manifest.

    Raises
    ------
    ParameterError
        Unknown parameter names, values of the wrong type, missing input files.
    RunError
        The kernel raised an error or an expected output is missing; the partial notebook and a
        manifest with status ``"failed"`` are kept in the run folder.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from ntm_analysis.engine import register_engine

    clock = time.perf_counter()
    root = Path(root).resolve() if root is not None else project_root()
    plan = prepare_run(notebook, parameters=parameters, out_dir=out_dir, inputs=inputs,
                       kernel_name=kernel_name, root=root)
    nb_path, run_dir, given, effective = plan.notebook, plan.run_dir, plan.given, plan.effective
    name = nb_path.stem
    lang = str(effective["lang"]) if effective.get("lang") in ("vi", "en") else "vi"

    since = time.time() - 1.0
    run_dir.mkdir(parents=True, exist_ok=True)
    # one run at a time in a folder: a second (another terminal, a scheduled job) stops here,
    # before it writes anything, naming the first
    lock = RunLock(run_dir / RUN_LOCK)
    lock.acquire()
    try:
        out_nb = run_dir / f"{name}.ipynb"
        html_path = run_dir / f"{name}.html"
        partial = run_dir / f".{name}.partial.ipynb"

        manifest: dict[str, Any] = {
            **{k: v for k, v in (extra or {}).items() if k not in _OWN_FIELDS},
            "notebook": _shown(nb_path, root),
            "notebook_sha256": plan.fingerprint["notebook_sha256"],
            "run_dir": _shown(run_dir, root),
            "parameters": effective,
            "parameters_given": given,
            "kernel_name": kernel_name,
            "inputs": plan.inputs,
            "fingerprint": plan.fingerprint,
            "versions": _versions(),
            "library_version": build_id(),
            "python_version": platform.python_version(),
            "started": _now(),
            "finished": None,
            "seconds": None,
            "status": STATUS_RUNNING,
            "error": None,
            "failed_cell": None,
        }
        # First the manifest says "running": a run killed from here on is never taken for done,
        # whatever its folder still holds from an earlier run.
        write_manifest(manifest, run_dir)
        for stale in (run_dir / FACTS, html_path, partial):
            stale.unlink(missing_ok=True)
        (run_dir / FIGURES).mkdir(exist_ok=True)
        (run_dir / TABLES).mkdir(exist_ok=True)
        logger.info("running %s into %s", nb_path.name, run_dir)
        env = {ROOT_ENV: str(root), RUN_DIR_ENV: str(run_dir)}
        error: str | None = None
        failed_cell: int | None = None
        kernel_cwd = str(resolve(cwd, root=root) if cwd is not None else root)
        km: Any = None
        from ntm_analysis.forkserver import single_run_kernels

        try:
            with _environment(env), single_run_kernels() as single_run_manager:
                if warm_kernel or fork_kernel:
                    from ntm_analysis.kernels import process_pool

                    km = process_pool().take(kernel_name=kernel_name, cwd=kernel_cwd, env=env,
                                             extra_arguments=KERNEL_ARGUMENTS,
                                             spare_next=spare_next and warm_kernel,
                                             fork=fork_kernel, fork_socket=fork_socket)
                pm.execute_notebook(
                    str(nb_path), str(partial), parameters=given, kernel_name=kernel_name,
                    # one save of the output notebook at the end (also when the kernel dies),
                    # instead of two per cell
                    engine_name=register_engine(),
                    cwd=kernel_cwd, progress_bar=progress, log_output=False, report_mode=False,
                    execution_timeout=timeout, shutdown_kernel="immediate",
                    extra_arguments=list(KERNEL_ARGUMENTS),
                    # a kernel nbclient starts itself: gone without an idle 0.1 s at its shutdown
                    **({"km": km} if km is not None else
                       {"kernel_manager_class": single_run_manager}),
                )
        except PapermillExecutionError as exc:
            failed_cell = _source_cell_index(exc.cell_index, nb_path, injected=bool(given))
            error = f"{exc.ename}: {exc.evalue}".strip().rstrip(":")
            manifest["error_name"] = exc.ename
            manifest["execution_count"] = exc.exec_count
        except KeyboardInterrupt:
            error = "interrupted"
            _shut_down(km)  # the kernel has ended (nbclient's own, on leaving single_run_kernels)
            _finish(manifest, run_dir, partial, out_nb, error, None, since, clock)
            # what its kernel was writing, once the kernel has ended and the run's own partial
            # notebook is renamed; not what another run inside its folder writes
            remove_temporaries(run_dir, since=since, own_runs_only=True)
            raise
        except Exception as exc:  # kernel died, timed out, could not start
            error = f"{type(exc).__name__}: {exc}"
        finally:
            _shut_down(km)  # the run's own kernel, whatever happened
        try:  # an interrupt from here on (the export, the facts) is told as one too
            if error is not None and failed_cell is None and partial.exists():
                started = _last_started_cell(partial)  # the cell the kernel died in, or timed out
                if started is not None:
                    failed_cell = _source_cell_index(started, nb_path, injected=bool(given))
            if partial.exists():
                os.replace(partial, out_nb)

            if error is None and export:
                from ntm_analysis.export import export_html

                try:
                    export_html(out_nb, html_path, title=title, lang=lang, default_title=name)
                except Exception as exc:  # the notebook ran, but the report cannot be written
                    error = f"HTML export failed: {type(exc).__name__}: {exc}"
            facts = read_facts(run_dir)
            if error is None:
                expected = [out_nb] + ([html_path] if export else [])
                expected += [run_dir / p for p in facts.get("expected", [])]
                missing = [_shown(p, run_dir) for p in expected if not p.is_file()]
                if missing:
                    error = f"expected output(s) missing: {', '.join(missing)}"
                    manifest["missing"] = missing
            manifest.update({k: v for k, v in facts.items() if k not in manifest})
            if "issues_found" not in manifest:
                counted = _count_issue_rows(run_dir)
                if counted is not None:
                    manifest["issues_found"] = counted
        except KeyboardInterrupt:
            _finish(manifest, run_dir, partial, out_nb, "interrupted", failed_cell, since, clock)
            raise
        manifest_path = _finish(manifest, run_dir, partial, out_nb, error, failed_cell, since,
                                clock)

        result = RunResult(
            status=manifest["status"], out_dir=run_dir, notebook_path=out_nb,
            html_path=html_path if html_path.is_file() else None,
            manifest_path=manifest_path, manifest=manifest,
        )
        if error is not None:
            where = f"cell {failed_cell}" if failed_cell is not None else "the run"
            raise RunError(f"notebook {nb_path.name}: {where} failed: {error}; partial notebook "
                           f"kept at {out_nb}", output_path=str(out_nb), cell=failed_cell)
        logger.info("run ok: %s", html_path)
        return result
    finally:
        lock.release()


def _shut_down(km: Any) -> None:
    """Shut down the kernel of a kernel manager the run took from the process's pool."""
    if km is not None and km.has_kernel:
        km.shutdown_kernel(now=True)


def _last_started_cell(partial: Path) -> int | None:
    """Return the index of the last cell papermill started in a partial notebook (None when
    no cell started): the cell that was running when the kernel died or a cell timed out."""
    import nbformat

    try:
        nb = nbformat.read(partial, as_version=4)
    except Exception:  # noqa: BLE001 - the error is reported without a cell then
        return None
    started = [i for i, c in enumerate(nb.cells)
               if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _source_cell_index(cell_index: int, nb_path: Path, *, injected: bool) -> int:
    """Map papermill's cell index (which counts the injected-parameters cell) to the index of
    the cell in the notebook as written."""
    if not injected:
        return cell_index
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    params_at = next((i for i, c in enumerate(nb.cells)
                      if "parameters" in c.get("metadata", {}).get("tags", [])), -1)
    injected_at = params_at + 1 if params_at >= 0 else 0
    return cell_index - 1 if cell_index > injected_at else cell_index


def _finish(manifest: dict[str, Any], run_dir: Path, partial: Path, out_nb: Path,
            error: str | None, failed_cell: int | None, since: float, clock: float) -> Path:
    """Complete and write the manifest; only files changed since ``since`` count as written."""
    if partial.exists():
        os.replace(partial, out_nb)
    manifest["status"] = STATUS_OK if error is None else STATUS_FAILED
    manifest["error"] = error
    manifest["failed_cell"] = failed_cell
    manifest["finished"] = _now()
    manifest["seconds"] = round(time.perf_counter() - clock, 3)
    written = [p for p in run_dir.rglob("*")
               if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")
               and p.stat().st_mtime >= since]
    manifest["files"] = _describe_files(written, base=run_dir, times=True)
    manifest["outputs"] = {
        "notebook": out_nb.name if out_nb.is_file() else None,
        "html": f"{out_nb.stem}.html" if (run_dir / f"{out_nb.stem}.html").is_file() else None,
    }
    return write_manifest(manifest, run_dir)


#: The yearly readiness report notebook (``notebooks/10_readiness.ipynb``).
READINESS_NOTEBOOK = "10_readiness"

def workbook_paths(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Return the workbook files named by ``paths`` (folders give their workbooks), absolute.

    Raises :class:`ParameterError` when a path does not exist, and
    :class:`ntm_analysis.errors.InputError` when no workbook is found (as every command that
    takes workbooks does: :func:`ntm_analysis.paths.require_workbooks`).
    """
    paths = list(paths)
    for item in paths:
        if not Path(item).expanduser().exists():
            raise ParameterError(f"{os.fspath(item)}: no such file or folder")
    return [p.resolve() for p in require_workbooks(paths)]


def build_report(
    paths: Iterable[str | os.PathLike[str]],
    *,
    out_dir: str | os.PathLike[str],
    year: int | None = None,
    lang: str = "vi",
    notebook: str | os.PathLike[str] = READINESS_NOTEBOOK,
    kernel_name: str = "python3",
    progress: bool = False,
    commune: str | None = None,
) -> RunResult:
    """Run the readiness report on the given workbooks (any layout the loader reads).

    The workbooks go to the notebook's ``paths`` parameter as absolute paths, so the report does
    not depend on ``data/raw``; the run folder ``out_dir`` receives the HTML, the Excel tables,
    the figures and the manifest. ``commune`` names the report's commune when the workbooks
    hold several (accents and case aside; a misspelt name gets the nearest one).
    """
    from ntm_analysis.export import check_lang

    check_lang(lang)
    paths = list(paths)
    files = workbook_paths(paths)
    check_outside(out_dir, [p for p in paths if Path(p).expanduser().is_dir()],
                  what="report's folder")
    parameters: dict[str, Any] = {PATHS_PARAM: [str(p) for p in files], "lang": lang}
    if year is not None:
        parameters["year"] = year
    if commune:
        parameters["commune"] = commune
    return run_notebook(notebook, parameters=parameters, out_dir=out_dir, inputs=files,
                        kernel_name=kernel_name, progress=progress)

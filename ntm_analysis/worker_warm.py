"""Imported once by a batch's worker fork server: imports and warms what every worker needs.

``multiprocessing``'s fork server (see ``batch._worker_context``) only *imports* the modules it
is given before it forks the batch's workers; it is given the program's main module and this
one, which:

* imports :data:`ntm_analysis.batch_worker.WORKER_MODULES` (the runner, papermill, nbclient,
  nbconvert, jupyter_client) with the cyclic garbage collector off
  (:func:`ntm_analysis.forkserver.frozen_warm_up`, as the kernel template does: about 0.1 s of
  the server's start, while every core is busy);
* leaves ``pyarrow.fs`` out: papermill's I/O module imports it for ``hdfs://`` paths, which a
  worker never reads or writes (a run's notebook and folder are local files), and it brings
  pyarrow and numpy with it (about 0.15 s of the server's start, and memory in every worker);
  papermill then treats HDFS as a missing optional dependency. Nothing else a worker runs
  (papermill, nbclient, nbconvert, the runner) imports pyarrow;
* compiles the report export's templates (or loads them compiled, from the machine's template
  cache: :func:`ntm_analysis.export.template_cache_dir`) and nbformat's validators
  (:func:`ntm_analysis.export.warm_up`), CPU that each worker's first run would otherwise
  spend by itself. It runs while the batch's kernel template starts on the other
  core. Nothing of any run's input is read;
* freezes the heap built so far (``gc.freeze``, the end of ``frozen_warm_up``): the workers'
  garbage collections skip what they inherited (as the kernel template's kernels do), and the
  server's own exit at the end of the batch skips its final collection over that heap
  (measured: 0.03 s instead of 0.19 s to exit, time every batch waits for); then turns the
  collector on again.

It never raises: a module that cannot be imported is left to the worker (which then fails its
runs with the import error), and a cold cache only costs time (the first export fills it).
"""

import importlib
import logging
import sys

from ntm_analysis.forkserver import frozen_warm_up

sys.modules.setdefault("pyarrow.fs", None)  # type: ignore[arg-type]
with frozen_warm_up():
    from ntm_analysis.batch_worker import WORKER_MODULES

    for _name in WORKER_MODULES:
        try:
            importlib.import_module(_name)
        except Exception as exc:  # noqa: BLE001 - the worker imports it again, and says why
            logging.getLogger(__name__).debug("worker preload skipped %s: %s", _name, exc)
    try:
        from ntm_analysis import build_id
        from ntm_analysis.export import warm_up

        build_id()  # every run's fingerprint names it
        warm_up()
    except Exception as exc:  # noqa: BLE001 - the workers' first exports warm up by themselves
        logging.getLogger(__name__).debug("worker warm-up skipped: %s", exc)

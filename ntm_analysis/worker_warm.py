"""Imported once by a batch's worker fork server: warms what every worker's first run needs.

``multiprocessing``'s fork server (see ``batch._worker_context``) only *imports* the modules it
is given before it forks the batch's workers. Importing this one, the last of them:

* compiles the report export's templates and nbformat's validators
  (:func:`ntm_analysis.export.warm_up`), about 0.15 s of CPU that each worker's first run would
  otherwise spend by itself. It runs while the batch's kernel template starts on the other
  core. Nothing of any run's input is read.
* freezes the heap built so far (``gc.freeze``): the workers' garbage collections skip what
  they inherited (as the kernel template's kernels do), and the server's own exit at the end
  of the batch skips its final collection over that heap (measured: 0.03 s instead of 0.19 s
  to exit, time every batch waits for).

It never raises: the fork server stops at an import that fails with anything but
``ImportError``, and a cold cache only costs time (the first export fills it).
"""

import gc
import logging

try:
    from ntm_analysis.export import warm_up

    warm_up()
except Exception as exc:  # noqa: BLE001 - the workers' first exports warm up by themselves
    logging.getLogger(__name__).debug("worker warm-up skipped: %s", exc)
gc.freeze()

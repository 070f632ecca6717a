"""A papermill engine that writes the output notebook once, at the end, instead of after every cell.

Papermill's default engine saves the whole notebook (validated, with every PNG so far) when each
cell starts and when it completes: about fifty writes for the readiness report, which cost more
than a second per run in the worker. :class:`FinalSaveEngine` keeps papermill's bookkeeping
(cell metadata, timings, error markers) but saves only when the execution itself fails (the
kernel died, a cell timed out), in the ``finally`` block where papermill's engine saves, so the
partial notebook is still written. When the engine returns, ``papermill.execute_notebook``
writes the notebook itself — with error markers when a cell raised
(``raise_for_execution_errors``) — so a save of the engine's would only write it twice.

Examples
--------
>>> from ntm_analysis.engine import ENGINE_NAME, register_engine
>>> register_engine()
'ntm-final-save'
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

#: Name under which :class:`FinalSaveEngine` is registered with papermill.
ENGINE_NAME = "ntm-final-save"


def register_engine() -> str:
    """Register the engine with papermill (idempotent) and return its name."""
    from papermill.engines import papermill_engines

    if ENGINE_NAME not in papermill_engines._engines:
        papermill_engines.register(ENGINE_NAME, _engine_class())
    return ENGINE_NAME


def _engine_class() -> type:
    from papermill.engines import NBClientEngine, NotebookExecutionManager

    class FinalSaveManager(NotebookExecutionManager):
        """Tracks execution like papermill's manager, but saves only in ``notebook_complete``
        after a failed execution (``failed``)."""

        failed = False
        _final = False

        def save(self, **kwargs: Any) -> None:
            if self._final and self.failed:
                super().save(**kwargs)

        def notebook_complete(self, **kwargs: Any) -> None:
            self._final = True
            super().notebook_complete(**kwargs)

    class FinalSaveEngine(NBClientEngine):
        """papermill's nbclient engine with one save of the output notebook, at the end."""

        @classmethod
        def execute_notebook(cls, nb: Any, kernel_name: str, output_path: str | None = None,
                             progress_bar: bool = True, log_output: bool = False,
                             autosave_cell_every: int = 30, **kwargs: Any) -> Any:
            nb_man = FinalSaveManager(nb, output_path=output_path, progress_bar=progress_bar,
                                      log_output=log_output,
                                      autosave_cell_every=autosave_cell_every)
            nb_man.notebook_start()
            nb_man.failed = True
            try:
                cls.execute_managed_notebook(nb_man, kernel_name, log_output=log_output,
                                             **kwargs)
                nb_man.failed = False  # papermill writes the notebook once the engine returns
            finally:
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            return nb_man.nb

        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            km = kwargs.get("km")
            if km is None:
                return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
            # a kernel started for this run (ntm_analysis.kernels): nbclient would leave it
            # running, since it did not start it; shut it down and close the channels here
            from jupyter_client.manager import AsyncKernelManager
            from papermill.clientwrap import PapermillNotebookClient

            if not isinstance(km, AsyncKernelManager):
                # nbclient awaits its client's channels: a blocking client's wait for output
                # (no timeout) would block its event loop, and with it the cell timeout and
                # the check that the kernel is alive (a hang, not an error, when it dies)
                # (the pool's kernels answered already: no wait for silence on IOPub)
                from ntm_analysis.kernels import ready_client_classes

                km.client_factory = ready_client_classes()[1]
            from papermill.utils import merge_kwargs, remove_args

            timeout = kwargs.pop("execution_timeout", None) or kwargs.get("timeout")
            start_timeout = kwargs.pop("start_timeout", 60)
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log=logger)
            return PapermillNotebookClient(nb_man, **final).execute(cleanup_kc=True)

    return FinalSaveEngine

"""nbconvert configuration for executing the notebooks headless: `scripts/run-notebooks.sh` passes it with `--config`.

Deno's Jupyter kernel (checked with deno 2.9.6) sometimes publishes a cell's last output (`execute_result` or
`display_data`) on the IOPub channel a fraction of a millisecond *after* the `status: idle` message that ends the cell.
Interactive frontends still show it; nbclient, which `nbconvert --execute` uses, stops reading a cell's outputs at that
idle message and drops the late one (the same problem as jupyter/nbconvert#130-era kernels, e.g. ijavascript#62).

`LateOutputExecutePreprocessor` is nbconvert's `ExecutePreprocessor` that, after the idle message, keeps reading IOPub
until no message has arrived for `late_output_grace` seconds and adds what belongs to the cell. Everything else
(`--ExecutePreprocessor.timeout`, the kernel named in the notebook, the working directory = the notebook's folder,
failing on a cell error) is unchanged.
"""

import queue

from nbclient.exceptions import CellExecutionComplete
from nbconvert.preprocessors import ExecutePreprocessor
from traitlets import Float


class LateOutputExecutePreprocessor(ExecutePreprocessor):
    """ExecutePreprocessor that keeps outputs a kernel publishes just after reporting the cell idle."""

    late_output_grace = Float(
        0.5, help="Seconds without IOPub messages after a cell's idle status before the next cell runs."
    ).tag(config=True)

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        while True:
            try:
                msg = self.kc.iopub_channel.get_msg(timeout=self.late_output_grace)
                if hasattr(msg, "__await__"):
                    msg = await msg
            except queue.Empty:
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                pass


c = get_config()  # noqa: F821 (defined by traitlets when it loads this file)
c.NotebookExporter.preprocessors = [LateOutputExecutePreprocessor]

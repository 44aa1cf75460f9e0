"""casegraph command line. Commands only parse arguments, call the library and print results."""
from __future__ import annotations

import click

from .. import __version__
from ..errors import CaseGraphError
from . import ai_cmds, case_cmds, demo_cmds, evidence_cmds, finance_cmds, graph_cmds, ingest_cmds, report_cmds


class _Main(click.Group):
    """The top: an error the examiner can fix (CaseGraphError) is one line and an exit status, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CaseGraphError as e:
            from ._ui import fail

            fail(str(e), e.code)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="casegraph")
@click.option("--wait", type=click.FloatRange(min=0), default=0.0, envvar="CASEGRAPH_WAIT", metavar="SECONDS",
              show_default=True,
              help="When another command holds the case, queue behind it for up to SECONDS instead of failing at once.")
def main(wait: float) -> None:
    """casegraph: evidence-first analysis for human-trafficking investigations.

    \b
    Typical flow:
      casegraph case init CASE --case-no HTS/2026/041 --examiner "IP Perera"
      casegraph evidence add CASE phone1/ --exhibit P1 --seized-from "suspect A" --acquired-by "IP Perera"
      casegraph ingest CASE
      casegraph custody verify CASE
      casegraph resolve CASE; casegraph analyze CASE; casegraph trace CASE --from ACCOUNT
      casegraph report CASE --redact victims; casegraph bundle CASE; casegraph verify BUNDLE

    One command changes a case at a time (commands that only look share it); a second one says
    who holds the case, or queues behind it with --wait.
    """


for module in (case_cmds, evidence_cmds, ingest_cmds, graph_cmds, finance_cmds, ai_cmds, report_cmds, demo_cmds):
    for command in module.COMMANDS:
        main.add_command(command)

"""casegraph command line. Commands only parse arguments, call the library and print results."""
from __future__ import annotations

import click

from .. import __version__
from . import ai_cmds, case_cmds, demo_cmds, evidence_cmds, finance_cmds, findings_cmds, graph_cmds, ingest_cmds, report_cmds


class _Main(click.Group):
    """Every command: a custody log that cannot be appended to is a one-line error, and the custody
    head is printed after any command that logged (to be kept outside the case directory)."""

    def invoke(self, ctx: click.Context):
        from ..case import Case
        from ..extras import MissingExtra
        from ..ingest.custody import CustodyBroken
        from ._ui import console, fail

        Case.last_head = None
        try:
            return super().invoke(ctx)
        except CustodyBroken as e:
            fail(str(e))
        except MissingExtra as e:
            fail(str(e))
        finally:
            if Case.last_head:
                root, seq, digest = Case.last_head
                console.print(f"custody head: {seq}:{digest} (keep it outside the case; check it with "
                              f"'casegraph custody verify {root} --expect-head {seq}:{digest}')", soft_wrap=True)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="casegraph")
def main() -> None:
    """casegraph: evidence-first analysis for human-trafficking investigations.

    \b
    Typical flow:
      casegraph case init CASE --case-no HTS/2026/041 --examiner "IP Perera"
      casegraph evidence add CASE phone1/ --exhibit P1 --seized-from "suspect A" --acquired-by "IP Perera"
      casegraph ingest CASE
      casegraph custody verify CASE
      casegraph resolve CASE; casegraph analyze CASE; casegraph trace CASE --from ACCOUNT
      casegraph findings list CASE; casegraph findings show CASE ID; casegraph parse-issues CASE
      casegraph report CASE --redact victims; casegraph bundle CASE; casegraph verify BUNDLE
    """


for module in (case_cmds, evidence_cmds, ingest_cmds, graph_cmds, finance_cmds, ai_cmds, findings_cmds, report_cmds, demo_cmds):
    for command in module.COMMANDS:
        main.add_command(command)

"""casegraph command line. Commands only parse arguments, call the library and print results."""

from __future__ import annotations

import click

from .. import __version__
from ..errors import CaseGraphError
from . import ai_cmds, case_cmds, demo_cmds, evidence_cmds, finance_cmds, findings_cmds, graph_cmds, ingest_cmds, report_cmds, serve_cmds
from ._ui import whole_short_help


class _Main(click.Group):
    """The top of every command: an error the examiner can fix (CaseGraphError: a custody log that
    cannot be appended to, a missing optional extra, ...) is one line and an exit status, never a traceback; and the custody head is
    printed after any command that logged (to be kept outside the case directory)."""

    def invoke(self, ctx: click.Context):
        from ..case import Case
        from ._ui import console, fail, notices

        Case.last_head = None
        console.stderr = False  # --json/--csv of an earlier command in this process sent it to stderr
        try:
            return super().invoke(ctx)
        except CaseGraphError as e:  # also a missing extra (MissingExtra) and a broken custody log (CustodyBroken)
            fail(str(e), e.code)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as e:  # a defect of casegraph's own: one line, the traceback kept for the report of it
            import os
            import tempfile
            import traceback

            if os.environ.get("CASEGRAPH_DEBUG"):
                raise
            fd, where = tempfile.mkstemp(prefix="casegraph-error-", suffix=".txt")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(traceback.format_exc())
            fail(
                f"unexpected {type(e).__name__} in casegraph: {str(e)[:300]} (a defect: please report it with the "
                f"traceback kept in {where}; CASEGRAPH_DEBUG=1 shows it here)",
                3,
            )
        finally:
            if Case.last_head:
                root, seq, digest = Case.last_head
                notices.print(
                    f"custody head: {seq}:{digest} (keep it outside the case; check it with "
                    f"'casegraph custody verify {root} --expect-head {seq}:{digest}')",
                    soft_wrap=True,
                )


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="casegraph")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0.0,
    envvar="CASEGRAPH_WAIT",
    metavar="SECONDS",
    show_default=True,
    help="When another command holds the case, queue behind it for up to SECONDS instead of failing at once.",
)
def main(wait: float) -> None:
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

    One command changes a case at a time (commands that only look share it); a second one says
    who holds the case, or queues behind it with --wait.
    """


for module in (case_cmds, evidence_cmds, ingest_cmds, graph_cmds, finance_cmds, ai_cmds, findings_cmds, report_cmds, demo_cmds, serve_cmds):
    for command in module.COMMANDS:
        main.add_command(command)
whole_short_help(main)

"""casegraph command line. Commands only parse arguments, call the library and print results."""
from __future__ import annotations

import click

from .. import __version__
from . import ai_cmds, case_cmds, demo_cmds, evidence_cmds, finance_cmds, findings_cmds, graph_cmds, ingest_cmds, report_cmds


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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

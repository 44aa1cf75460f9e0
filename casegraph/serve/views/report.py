"""Report builder: choose the items relied upon (tagged records, confirmed findings), write the
interpretation and choose the redaction; produce the report and the bundle through the library calls
of `casegraph report` / `casegraph bundle`, logged in custody with the user; then show the verify result."""

from __future__ import annotations

from ...reports import builder
from ...reports.render import RenderError
from ..web import BadRequest, Ctx, View

view = View("report", "Report", order=90)


@view.page("/report")
def page(ctx: Ctx):
    return ctx.render("report/index.html", items=builder.candidates(ctx.store), outputs=builder.outputs(ctx.case))


@view.api("/api/report/build", methods=("POST",))
def build(ctx: Ctx):
    body = ctx.body()
    chosen = body.get("items") or []
    if not isinstance(chosen, list) or not all(isinstance(x, str) for x in chosen):
        raise BadRequest("items must be a list of item keys")
    interpretation = body.get("interpretation")
    if interpretation is not None and not isinstance(interpretation, str):
        raise BadRequest("interpretation must be text")
    if ctx.redacting and not body.get("redact", True):
        raise BadRequest("a reviewer's report is redacted")
    try:
        return builder.build(
            ctx.case,
            ctx.actor,
            redact=bool(body.get("redact", True)),
            interpretation=interpretation,
            chosen=chosen,
            bundle=bool(body.get("bundle", True)),
            override_verify=(body.get("override_verify") or None),
        )
    except (RenderError, ValueError) as e:  # NotVerified, StaleFindings: the library's one line
        raise BadRequest(str(e)) from None

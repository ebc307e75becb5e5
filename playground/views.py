"""The playground's HTTP handlers: one full page and the partials htmx swaps into it.

    GET  /playground                    the page (optionally `?example=NAME` preloaded)
    GET  /playground/example?name=NAME  the three panes filled from an example
    POST /playground/run                the result pane (plus each pane's problem list, out of band)
    POST /playground/test-case          the current run as a test-case YAML block
    POST /playground/append-test-case   the bundle pane with that block appended under `tests:`
    POST /playground/tests              the bundle's own `tests:` and `automation_tests:` run, pass or
                                        fail per case, and each automation's next firings
    POST /playground/complete           completion at a cursor (JSON), as `accrual lsp` offers it
    POST /playground/hover              documentation of the name under a cursor (JSON)
    GET  /playground/programs           the caller's stored programs (needs an API key)
    GET  /playground/programs/open?id=  the panes filled from one stored program (needs an API key)
    POST /playground/backtests          the bundle replayed over a stored program's history, polled
                                        until its difference shows (`playground/backtests.py`)

Handlers are thin: they read the form, call `dry_run` / `build_test_case` and render. Pasted text
is only ever read as YAML/JSON data and CEL; nothing is written to any database.

The playground renders its Jinja2 templates with its own autoescaping environment, so the router
mounts into any Litestar app (the API's `create_app(route_handlers=[router])`) without that app
configuring templates; htmx response headers (`HX-Trigger-After-Settle`, `HX-Retarget`) are set
explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter, URLEncodedBody
from litestar.static_files import create_static_files_router

from engine.evaluator.automation_cases import run_automation_tests
from engine.evaluator.cases import run_test_cases
from engine.rules import completion
from playground.automations import next_firings
from playground.backtests import BacktestController
from playground.dryrun import DryRun, RunForm, condition_locator, dry_run, is_single_rule, load_cached
from playground.examples import EXAMPLES_DIR, ExampleNotFound, Panes, event_text, example_names, load_example
from playground.inputs import PaneError, PaneProblem, parse_event
from playground.rendering import render
from playground.reports import ReportChartsController, ReportsPageController
from playground.state_view import lot_rows, state_rows, tier_rows
from playground.stored import StoredProgramNotFound, list_stored_programs, stored_program_panes
from playground.summary import api_status, summarize
from playground.testcase import AppendError, append_test_case, build_test_case, render_test_case
from playground.trace import trace_rows

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
HTMX_FILE = "htmx-2.0.11.min.js"
CODEMIRROR_FILE = "codemirror.bundle.js"
PANES = ("bundle", "event", "participant")
# htmx triggers `run` once the swapped panes are in place, so the new text is what gets posted.
_RUN_AFTER_SETTLE = {"HX-Trigger-After-Settle": "run"}
_TO_MESSAGE = {"HX-Retarget": "#message", "HX-Reswap": "innerHTML"}
_NO_AUTH = "stored programs are available when the playground runs inside the API server"
_EMPTY = Panes(bundle="", event=event_text({}), participant="tags: []\n")


class TestCaseForm(RunForm, kw_only=True):
    name: str = ""


class AppendForm(msgspec.Struct, kw_only=True):
    bundle: str = ""
    block: str = ""


class BundleForm(msgspec.Struct, kw_only=True):
    bundle: str = ""


class CursorForm(RunForm, kw_only=True):
    """A cursor in the bundle pane: 0-based line and character, as editors count them."""

    line: int = 0
    character: int = 0


class PlaygroundController(Controller):
    path = "/playground"
    include_in_schema = False

    @get("/", sync_to_thread=False)
    def page(
        self,
        examples_dir: NamedDependency[Path],
        example: Annotated[str | None, QueryParameter(name="example")] = None,
    ) -> Response[str]:
        panes, error = _EMPTY, None
        if example:
            try:
                panes = load_example(example, examples_dir)
            except ExampleNotFound as exc:
                error = str(exc)
        context = {"panes": panes, "examples": example_names(examples_dir), "example": example, "error": error}
        context["htmx_file"], context["codemirror_file"] = HTMX_FILE, CODEMIRROR_FILE
        return render("index.html", context)

    @get("/example", sync_to_thread=False)
    def example(
        self, examples_dir: NamedDependency[Path], name: Annotated[str, QueryParameter(name="name")]
    ) -> Response[str]:
        try:
            panes = load_example(name, examples_dir)
        except ExampleNotFound as exc:
            return render("message.html", {"message": str(exc)}, headers=_TO_MESSAGE)
        return render("panes.html", {"panes": panes}, headers=_RUN_AFTER_SETTLE)

    # Loading a large bundle takes a while: off the event loop, so the API it is mounted in stays responsive.
    @post("/run", sync_to_thread=True, status_code=200)
    def run(self, data: URLEncodedBody[RunForm]) -> Response[str]:
        return render("result.html", result_context(dry_run(data)))

    @post("/test-case", sync_to_thread=True, status_code=200)
    def test_case(self, data: URLEncodedBody[TestCaseForm]) -> Response[str]:
        run = dry_run(data)
        context: dict[str, Any] = {"block": None, "problems": run.problems}
        if run.result is not None and run.event is not None and run.state_input is not None:
            case = build_test_case(data.name, run.event, run.state_input, run.result)
            context["block"] = render_test_case(case)
        return render("testcase.html", context)

    @post("/append-test-case", sync_to_thread=False, status_code=200)
    def append(self, data: URLEncodedBody[AppendForm]) -> Response[str]:
        bundle = data.bundle.replace("\r\n", "\n")
        try:
            appended, error = append_test_case(bundle, data.block.replace("\r\n", "\n")), None
        except AppendError as exc:
            appended, error = bundle, str(exc)
        context = {"bundle": appended, "append_error": error}
        return render("bundle_pane.html", context, headers=_RUN_AFTER_SETTLE)

    @post("/tests", sync_to_thread=True, status_code=200)
    def tests(self, data: URLEncodedBody[BundleForm]) -> Response[str]:
        text = data.bundle.replace("\r\n", "\n")
        if is_single_rule(text):
            return render("tests.html", {"cases": [], "problems": [], "single_rule": True, "automations": []})
        loaded = load_cached(text)
        context = {
            "cases": run_test_cases(loaded) + run_automation_tests(loaded),
            "problems": loaded.errors,
            "single_rule": False,
            "automations": next_firings(loaded, datetime.now(UTC)),
        }
        return render("tests.html", context)

    @post("/complete", sync_to_thread=True, status_code=200)
    def complete(self, data: URLEncodedBody[CursorForm]) -> dict[str, Any]:
        text = data.bundle.replace("\r\n", "\n")
        found = completion.complete(text, data.line, data.character, events=_events_of(data.event))
        items = [{"label": i.label, "kind": i.kind, "detail": i.detail, "info": i.documentation} for i in found.items]
        return {"start": found.start, "items": items}

    @post("/hover", sync_to_thread=True, status_code=200)
    def hover(self, data: URLEncodedBody[CursorForm]) -> dict[str, Any]:
        found = completion.hover(data.bundle.replace("\r\n", "\n"), data.line, data.character)
        return {} if found is None else {"start": found.start, "end": found.end, "markdown": found.markdown}


def _events_of(text: str) -> list[dict[str, Any]]:
    """The event pane's data for `event.` completion; nothing while it does not parse."""
    try:
        return [parse_event(text.replace("\r\n", "\n")).event_data]
    except PaneError:
        return []


class StoredProgramsController(Controller):
    """Stored programs, through the authentication of the app the playground is mounted in: the
    API key (sent by the page as `X-API-Key`) selects the organisation, whose programs alone are
    listed and opened."""

    path = "/playground/programs"
    include_in_schema = False
    opt: Mapping[str, Any] = {"public": False}  # overrides the router: the app's API-key check applies here

    @get("/", sync_to_thread=True)
    def programs(self, request: Request) -> Response[str]:
        organisation_id = _organisation_of(request)
        if organisation_id is None:
            return render("message.html", {"message": _NO_AUTH}, headers=_TO_MESSAGE)
        return render("programs.html", {"programs": list_stored_programs(organisation_id)})

    @get("/open", sync_to_thread=True)
    def program(self, request: Request, program_id: Annotated[str, QueryParameter(name="id")]) -> Response[str]:
        organisation_id = _organisation_of(request)
        if organisation_id is None:
            return render("message.html", {"message": _NO_AUTH}, headers=_TO_MESSAGE)
        try:
            panes = stored_program_panes(organisation_id, program_id)
        except StoredProgramNotFound as exc:
            return render("message.html", {"message": str(exc)}, headers=_TO_MESSAGE)
        return render("panes.html", {"panes": panes}, headers=_RUN_AFTER_SETTLE)


def _organisation_of(request: Request) -> str | None:
    """The organisation the app's authentication resolved, or None where nothing authenticates
    (the playground mounted on its own)."""
    return getattr(request.scope.get("auth"), "organisation_id", None)


def result_context(run: DryRun) -> dict[str, Any]:
    """What `result.html` renders: the run, each rule's trace rows, problems grouped by pane."""
    by_pane: dict[str, list[PaneProblem]] = {pane: [] for pane in PANES}
    for problem in run.problems:
        by_pane[problem.pane].append(problem)
    result = run.result
    traces = {o.rule: trace_rows(o.trace, condition_locator(run, o.rule)) for o in result.rules} if result else {}
    conditions = {rule.name: rule.condition for rule in run.bundle.rules} if run.bundle else {}
    context: dict[str, Any] = {
        "run": run,
        "problems": by_pane,
        "traces": traces,
        "conditions": conditions,
        "api_status": api_status,
        "summary": None,
        "states": {},
        "lots": {},
        "tiers": [],
    }
    if result is not None and run.before is not None:
        context["summary"] = summarize(result, run.before, run.recipient_before)
        after = result.participant_after()
        context["states"]["participant"] = state_rows(run.before, after)
        context["lots"] = {"participant": lot_rows(run.before, after, result.settled, "participant")}
        if run.bundle is not None:
            changes = result.state_changes
            context["tiers"] = tier_rows(run.bundle, run.before, after, changes, result.evaluated_at)
        if result.recipient is not None and run.recipient_before is not None:
            context["states"]["recipient"] = state_rows(run.recipient_before, result.recipient)
            context["lots"]["recipient"] = lot_rows(run.recipient_before, result.recipient, result.settled, "recipient")
        if result.group is not None and run.group_before is not None:
            context["states"]["group"] = state_rows(run.group_before, result.group)
            context["lots"]["group"] = lot_rows(run.group_before, result.group, result.settled, "group")
    return context


async def accept_form_bodies(request: Request) -> None:
    """The playground's htmx posts are URL-encoded forms: on its routes this router-level hook
    takes the place of the app's `before_request` (the API's check that `/v1/` bodies are JSON)."""
    return None


def create_router(examples_dir: Path = EXAMPLES_DIR) -> Router:
    """The playground's routes and the reports page, with its example picker reading `examples_dir`.

    >>> Litestar(route_handlers=[create_router(Path("rules_examples"))])
    """
    return Router(
        path="/",
        opt={"public": True},  # no API key: pasted bundles are evaluated without touching any data
        before_request=accept_form_bodies,
        dependencies={"examples_dir": Provide(lambda: examples_dir, use_cache=True, sync_to_thread=False)},
        route_handlers=[
            PlaygroundController,
            StoredProgramsController,
            BacktestController,
            ReportsPageController,
            ReportChartsController,
            create_static_files_router(path="/playground/static", directories=[STATIC_DIR], include_in_schema=False),
        ],
    )


router = create_router()

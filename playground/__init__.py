"""The browser playground: author a program bundle, dry-run an event against a participant's
state and see every rule's status and the value of every sub-expression (D30).

Mount `router` in any Litestar app (`create_app(route_handlers=[playground.router])`); it serves
`/playground`, its htmx partials and its static files under `/playground/static`, and renders its
own templates.
"""

from playground.rendering import TEMPLATES_DIR
from playground.views import STATIC_DIR, PlaygroundController, create_router, router

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "PlaygroundController", "create_router", "router"]

"""One controller per resource; `CONTROLLERS` is what the app mounts."""

from api.controllers.events import EventController
from api.controllers.health import HealthController

CONTROLLERS = [HealthController, EventController]

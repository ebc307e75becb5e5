"""One controller per resource; `CONTROLLERS` is what the app mounts."""

from api.controllers.assets import AssetController
from api.controllers.events import EventController
from api.controllers.health import HealthController
from api.controllers.journal import JournalController
from api.controllers.logs import LogController
from api.controllers.lots import LotController
from api.controllers.participant_state import ParticipantStateController
from api.controllers.participants import ParticipantController
from api.controllers.programs import ProgramController
from api.controllers.reports import ReportController
from api.controllers.rules import RuleController
from api.controllers.tiers import TierController
from api.controllers.webhooks import WEBHOOK_CONTROLLERS

CONTROLLERS = [
    HealthController,
    EventController,
    ProgramController,
    AssetController,
    ParticipantController,
    ParticipantStateController,
    LotController,
    RuleController,
    TierController,
    JournalController,
    ReportController,
    LogController,
    *WEBHOOK_CONTROLLERS,
]

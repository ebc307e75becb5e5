"""One controller per resource; `CONTROLLERS` is what the app mounts."""

from api.controllers.asset_links import AssetLinkController
from api.controllers.assets import AssetController
from api.controllers.automations import AutomationController
from api.controllers.backtests import BacktestController
from api.controllers.events import EventController
from api.controllers.group_balances import GroupBalanceController
from api.controllers.group_state import GroupStateController
from api.controllers.groups import GroupController
from api.controllers.health import HealthController
from api.controllers.journal import JournalController
from api.controllers.logs import LogController
from api.controllers.lots import LotController
from api.controllers.participant_state import ParticipantStateController
from api.controllers.participants import ParticipantController
from api.controllers.programs import ProgramController
from api.controllers.redemptions import RedemptionController
from api.controllers.reports import ReportController
from api.controllers.rewards import RewardController
from api.controllers.rules import RuleController
from api.controllers.shadow import ShadowController
from api.controllers.statement import StatementController
from api.controllers.tiers import TierController
from api.controllers.transfers import TransferController
from api.controllers.webhooks import WEBHOOK_CONTROLLERS

CONTROLLERS = [
    HealthController,
    EventController,
    ProgramController,
    AssetController,
    ParticipantController,
    ParticipantStateController,
    LotController,
    GroupController,
    GroupBalanceController,
    GroupStateController,
    RuleController,
    TierController,
    AutomationController,
    JournalController,
    RewardController,
    RedemptionController,
    TransferController,
    StatementController,
    AssetLinkController,
    ReportController,
    LogController,
    BacktestController,
    ShadowController,
    *WEBHOOK_CONTROLLERS,
]

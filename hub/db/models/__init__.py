"""The store's tables, one module per domain. Importing this package registers them all."""

from hub.db.models.ai import Evaluation, InterviewOutline, InterviewSession, ScreeningResult, ScreeningRun
from hub.db.models.approvals import ApprovalInstance, Notification
from hub.db.models.events import AuditLog, Event, JobRun, WorkflowCursor
from hub.db.models.identity import ApiKey, DataKey, Person, Principal, Tenant
from hub.db.models.integration import (
    BlindIndex,
    Connection,
    ConnectorDefinition,
    Quarantine,
    RemoteLink,
    SyncRun,
    SyncState,
    WebhookDelivery,
    WebhookReceipt,
    WebhookSubscription,
)
from hub.db.models.recruiting import (
    Application,
    Candidate,
    Interview,
    Job,
    Resume,
    Scorecard,
    StageChange,
)

__all__ = [
    "ApiKey",
    "Application",
    "ApprovalInstance",
    "AuditLog",
    "BlindIndex",
    "Candidate",
    "Connection",
    "ConnectorDefinition",
    "DataKey",
    "Evaluation",
    "Event",
    "Interview",
    "InterviewOutline",
    "InterviewSession",
    "Job",
    "JobRun",
    "Notification",
    "Person",
    "Principal",
    "Quarantine",
    "RemoteLink",
    "Resume",
    "Scorecard",
    "ScreeningResult",
    "ScreeningRun",
    "StageChange",
    "SyncRun",
    "SyncState",
    "Tenant",
    "WebhookDelivery",
    "WebhookReceipt",
    "WebhookSubscription",
    "WorkflowCursor",
]

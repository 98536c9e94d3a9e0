"""The Customer 360 model: parties (golden records) and everything attached to them."""

from .contact_points import (
    AddressUsage,
    ContactPointAddress,
    ContactPointEmail,
    ContactPointPhone,
    ContactPointSocial,
    ContactUsage,
    PhoneType,
    Validity,
)
from .engagement import Engagement, EngagementChannel, EngagementType, Membership, MembershipStatus
from .history import (
    GOLDEN_ATTRIBUTE_CHOICES,
    AuditTrailImmutable,
    EventKind,
    GoldenOverride,
    PartyEvent,
    Rule,
    SurvivorshipRule,
)
from .imports import (
    FINISHED_STATUSES,
    DataQualityIssue,
    ImportJob,
    ImportRejection,
    ImportStatus,
)
from .outbox import ChangeEvent, ChangeEventParty, ChangeEventSequence, ChangeEventType
from .party import Gender, Party, PartyKind, PartyStatus
from .relations import IdentifierType, PartyIdentification, PartyRelationship, RelationshipKind
from .sources import DataCategory, SourceKind, SourceRecord, SourceSystem

__all__ = [
    "ChangeEvent",
    "ChangeEventParty",
    "ChangeEventSequence",
    "ChangeEventType",
    "GOLDEN_ATTRIBUTE_CHOICES",
    "AuditTrailImmutable",
    "EventKind",
    "GoldenOverride",
    "PartyEvent",
    "Rule",
    "SurvivorshipRule",
    "FINISHED_STATUSES",
    "DataQualityIssue",
    "ImportJob",
    "ImportRejection",
    "ImportStatus",
    "AddressUsage",
    "ContactPointAddress",
    "ContactPointEmail",
    "ContactPointPhone",
    "ContactPointSocial",
    "ContactUsage",
    "DataCategory",
    "Engagement",
    "EngagementChannel",
    "EngagementType",
    "Gender",
    "IdentifierType",
    "Membership",
    "MembershipStatus",
    "Party",
    "PartyIdentification",
    "PartyKind",
    "PartyRelationship",
    "PartyStatus",
    "PhoneType",
    "RelationshipKind",
    "SourceKind",
    "SourceRecord",
    "SourceSystem",
    "Validity",
]

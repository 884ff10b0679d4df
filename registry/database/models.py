"""Import every model so the metadata (and Alembic) sees the whole schema."""
from registry.applications.models import (
    Application, ApplicationDocument, ApplicationEvent, Examiner, StandardCertificate, application_examiners,
)
from registry.audit.models import AuditEvent
from registry.auth.models import ApiToken, User
from registry.catalog.models import CatalogLine, CatalogVersion
from registry.imports.models import ImportRun
from registry.indicators.models import Indicator, Plan, PlanTarget, RecordedValue
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.reference.models import Discipline, ReferenceDataset, Region
from registry.regulations.models import Regulation
from registry.reminders.models import Reminder, ReminderSettings
from registry.standards.models import (
    MeasurementStandard, StandardStatusPeriod, standard_catalog_lines, standard_regulations,
)

__all__ = [
    "Application",
    "ApplicationDocument",
    "ApplicationEvent",
    "Examiner",
    "StandardCertificate",
    "application_examiners",
    "ApiToken",
    "AuditEvent",
    "CatalogLine",
    "CatalogVersion",
    "ImportRun",
    "Discipline",
    "Indicator",
    "Institution",
    "MeasurementStandard",
    "Person",
    "Plan",
    "PlanTarget",
    "RecordedValue",
    "ReferenceDataset",
    "Region",
    "Regulation",
    "Reminder",
    "StandardStatusPeriod",
    "ReminderSettings",
    "User",
    "standard_catalog_lines",
    "standard_regulations",
]

"""Pydantic models of the HTTP contract. Unknown fields are refused, numbers must be finite, text
may not hold NUL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pingan.domain.access import Actor
from pingan.domain.cases import Action, Case, CaseState, TimelineEntry
from pingan.domain.categories import CATEGORIES
from pingan.domain.geo import CRS, Point, from_wgs84
from pingan.domain.ids import MAX_ID
from pingan.domain.sla import Urgency

IdIn = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """PostgreSQL cannot store NUL in text and SQLite would: refuse it on both, up front."""
        if _holds_nul(value):
            raise ValueError("text may not contain NUL (U+0000)")
        return value


def _holds_nul(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 32:
        return False
    if isinstance(value, dict):
        return any(_holds_nul(k, depth + 1) or _holds_nul(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v, depth + 1) for v in value)
    return False


class CaseCreate(Strict):
    category_code: str = Field(min_length=1, max_length=8, examples=["E0102"])
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    lng: float = Field(description="Longitude in the `crs` datum")
    lat: float = Field(description="Latitude in the `crs` datum")
    crs: CRS = Field(
        default=CRS.WGS84, description="wgs84 (GPS), gcj02 (AMap/Tencent/phones), bd09"
    )
    urgency: Urgency = Urgency.ROUTINE
    address: str = Field(default="", max_length=300)
    photo_ids: list[IdIn] = Field(default_factory=list, max_length=20)


class ActionBody(Strict):
    note: str | None = Field(default=None, max_length=5000)
    reason: str | None = Field(default=None, max_length=2000)
    department_id: str | None = Field(default=None, max_length=64)
    photo_ids: list[IdIn] = Field(default_factory=list, max_length=20)
    passed: bool | None = None
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    target_case_id: IdIn | None = None


class CaseOut(BaseModel):
    id: int
    tracking_no: str
    state: CaseState
    category_code: str
    category_name: str
    category_name_en: str
    urgency: Urgency
    title: str
    description: str
    address: str
    lng: float
    lat: float
    crs: CRS
    grid_code: str
    location_path: str
    owner_path: str
    department_id: str | None
    channel: str
    version: int
    rework_count: int
    escalation_count: int
    supervision_count: int
    satisfaction: int | None
    merged_into: int | None
    photo_ids: list[int]
    due_at: datetime | None
    overdue: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    reported_by_me: bool
    allowed_actions: list[Action]

    @classmethod
    def of(cls, case: Case, actor: Actor, now: datetime, crs: CRS = CRS.WGS84) -> CaseOut:
        cat = CATEGORIES.get(case.category_code)
        lng, lat = from_wgs84(Point(case.lng, case.lat), crs)
        return cls(
            id=case.id,
            tracking_no=case.tracking_no,
            state=case.state,
            category_code=case.category_code,
            category_name=cat.name if cat else case.category_code,
            category_name_en=cat.name_en if cat else case.category_code,
            urgency=case.urgency,
            title=case.title,
            description=case.description,
            address=case.address,
            lng=round(lng, 7),
            lat=round(lat, 7),
            crs=crs,
            grid_code=case.grid_code,
            location_path=case.location_path,
            owner_path=case.owner_path,
            department_id=case.department_id,
            channel=case.channel,
            version=case.version,
            rework_count=case.rework_count,
            escalation_count=case.escalation_count,
            supervision_count=case.supervision_count,
            satisfaction=case.satisfaction,
            merged_into=case.merged_into,
            photo_ids=list(case.photo_ids),
            due_at=case.due_at,
            overdue=case.overdue_since is not None
            or (case.due_at is not None and case.due_at < now),
            created_at=case.created_at,
            updated_at=case.updated_at,
            closed_at=case.closed_at,
            reported_by_me=case.reporter_id == actor.user_id,
            allowed_actions=case.allowed(actor),
        )


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class TimelineOut(BaseModel):
    seq: int
    action: str
    from_state: CaseState | None
    to_state: CaseState
    actor_role: str
    actor_is_me: bool
    at: datetime
    note: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, seq: int, entry: TimelineEntry, actor: Actor) -> TimelineOut:
        return cls(
            seq=seq,
            action=entry.action,
            from_state=entry.from_state,
            to_state=entry.to_state,
            actor_role=entry.actor_role,
            actor_is_me=entry.actor_id == actor.user_id,
            at=entry.at,
            note=entry.note,
            data=entry.data,
        )


class DeadlineOut(BaseModel):
    stage: str
    clock: str
    started_at: datetime
    due_at: datetime
    warn_at: datetime
    status: str
    warned_at: datetime | None
    lapsed_at: datetime | None
    remaining_seconds: float | None


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserOut
    stage: Literal["full", "totp_enrol"] = Field(
        default="full", description="`totp_enrol`: the token only enrols a second factor"
    )


class TotpEnrolmentOut(BaseModel):
    secret: str = Field(description="Base32 secret, shown once")
    otpauth_uri: str = Field(description="otpauth://totp/... for an authenticator app")


class TotpCodeIn(Strict):
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    jurisdiction: str
    department_id: str | None
    grid_code: str | None


class UnitOut(BaseModel):
    code: str
    name: str
    name_en: str
    level: str
    path: str
    parent_code: str | None
    generated: bool
    bbox: tuple[float, float, float, float] | None
    center: tuple[float, float] | None


class LocateOut(BaseModel):
    lng: float
    lat: float
    grid: UnitOut
    chain: list[UnitOut]
    owner_path: str


class CategoryOut(BaseModel):
    code: str
    name: str
    name_en: str
    kind: str
    major_code: str
    major_name: str
    major_name_en: str
    department_kind: str
    limits: dict[str, dict[str, Any]]


class DepartmentOut(BaseModel):
    id: str
    kind: str
    name: str
    name_en: str
    unit_path: str


class SuggestionOut(BaseModel):
    department_id: str
    reason: str


class RuleIn(Strict):
    category_prefix: str = Field(min_length=1, max_length=8)
    unit_path: str = Field(min_length=1, max_length=255)
    department_id: str = Field(min_length=1, max_length=64)
    priority: int = Field(default=0, ge=-1000, le=1000)


class RuleOut(BaseModel):
    id: int
    category_prefix: str
    unit_path: str
    department_id: str
    priority: int


class AttachmentOut(BaseModel):
    id: int
    sha256: str
    content_type: str
    size: int


class SummaryOut(BaseModel):
    unit_path: str
    total: int
    open: int
    overdue: int
    today: int
    by_state: dict[str, int]


class SimilarOut(BaseModel):
    score: float
    case: CaseOut


class DraftIn(Strict):
    category_code: str = Field(min_length=1, max_length=8)
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    lng: float
    lat: float
    crs: CRS = CRS.WGS84


TokenOut.model_rebuild()


class ContactIn(Strict):
    """Any of: a name, a mainland mobile number, a resident identity number (GB 11643)."""

    name: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32, examples=["13812345678"])
    id_number: str | None = Field(default=None, max_length=32)


class ContactOut(BaseModel):
    name: str | None
    phone: str | None = Field(description="138****5678 unless revealed")
    id_number: str | None = Field(description="330402********1234 unless revealed")
    masked: bool


class ContactedCaseOut(BaseModel):
    case_id: int
    tracking_no: str
    state: str
    title: str
    contact: ContactOut


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor_id: int
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    hash: str


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str | None = Field(description="hash | link | gap | truncated")

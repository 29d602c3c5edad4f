from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from alojamientos.kit.models import Base


class FeatureFlag(Base):
    """An integration switch, read at runtime by every process (cached for a few seconds)."""

    __tablename__ = "feature_flags"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    description: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str] = mapped_column(String(120), server_default="system")


class FlagChange(Base):
    """The audit trail: who switched what, when."""

    __tablename__ = "feature_flag_changes"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(120))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Deployment(Base):
    """Each time a version went live (`db upgrade`) or was rolled back: what "since the deploy" means."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    version: Mapped[str] = mapped_column(String(80))
    revision: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(20))  # upgrade | rollback
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeployRun(Base):
    """One `alojamientos deploy` or `rollback` through the slots (ops/deploy.py), for the Sistema page."""

    __tablename__ = "deploy_runs"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # blue-green | canary | downtime | rollback | rollback-full
    version: Mapped[str] = mapped_column(String(80))  # the tag going live (or back)
    from_version: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20))  # running | done | rolled_back | failed | refused
    summary: Mapped[str | None] = mapped_column(Text)  # what happened, one line, in Spanish
    unavailable_seconds: Mapped[float | None] = mapped_column(Float)  # None: the service never stopped
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeployStep(Base):
    """A step of a deploy run: what was done, how long it took, and the canary's figures when watched."""

    __tablename__ = "deploy_steps"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("deploy_runs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    step: Mapped[str] = mapped_column(String(40))
    ok: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text)
    seconds: Mapped[float | None] = mapped_column(Float)
    canary_weight: Mapped[int | None] = mapped_column(SmallInteger)  # % of requests sent to the canary
    canary_5xx: Mapped[float | None] = mapped_column(Float)  # 5xx share of the canary's requests, 0..1
    stable_5xx: Mapped[float | None] = mapped_column(Float)

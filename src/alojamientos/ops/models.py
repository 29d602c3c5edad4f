from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Identity, String, Text, func
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

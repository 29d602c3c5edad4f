from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Identity, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from alojamientos.kit.models import Base, TimestampMixin


class Operator(TimestampMixin, Base):
    """A person who runs the complex. Passwords are argon2id hashes."""

    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), server_default=text("''"))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

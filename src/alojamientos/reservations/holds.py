"""New rows: holds and our own blocks. The exclusion constraint decides overlaps; codes are drawn here."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Executable,
    bindparam,
    cast,
    exists,
    false,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from alojamientos.errors import AppError
from alojamientos.kit.clock import utc_now
from alojamientos.observability.transitions import count_transition
from alojamientos.pricing.models import PriceSettings
from alojamientos.pricing.service import pricing
from alojamientos.reservations import events, quotes, repository
from alojamientos.reservations.codes import new_code
from alojamientos.reservations.errors import (
    AccommodationInactive,
    DatesUnavailable,
    InvalidOverride,
)
from alojamientos.reservations.models import (
    Reservation,
    ReservationEvent,
    ReservationSource,
    ReservationStatus,
)
from alojamientos.reservations.types import NewBlock, NewStay, Price

log = logging.getLogger(__name__)


async def hold(session: AsyncSession, stay: NewStay, *, actor: str) -> Reservation:
    """Create a `pre_reserved` hold (or a `confirmed` stay); the constraint refuses overlaps.

    From the panel or the API (`source` admin) the stay may carry an agreed `price` and an
    `override_reason` to book past the stay rules; both are in the creation event's data.
    Returns the reservation with its one event loaded (`events`). Two statements: one read (the unit,
    the settings and the seasons, which the process then keeps: `quotes.booking_facts`) and one write
    (the row, its event, the notify job and the wake-up), the write last because the exclusion check
    may wait for a competing transaction. The write checks the catalog version the stay was priced
    with; when a unit, price or season changed since, the stay is read and priced again.
    Errors: InvalidOverride, AccommodationNotFound (404), AccommodationInactive and the stay limits and
    rules (422, `quotes.bookable`), DatesUnavailable (409, naming the stay in the way).
    """
    if stay.source is not ReservationSource.admin and (stay.override_reason or stay.price):
        raise InvalidOverride("only an operator can agree a price or book past a rule")
    fresh = False
    for _attempt in range(5):
        try:
            return await _hold(session, stay, actor=actor, fresh=fresh)
        except _CatalogChanged:  # priced or refused on kept rows that may be stale: read them again
            fresh = True
    raise RuntimeError("the units, prices or seasons kept changing while booking: 5 attempts")


class _CatalogChanged(Exception):
    """The booking statement saw a newer catalog version than the facts the stay was priced with, or
    kept facts refused the stay."""


async def _hold(session: AsyncSession, stay: NewStay, *, actor: str, fresh: bool) -> Reservation:
    known, unit, version, kept = await quotes.booking_facts(session, stay.accommodation_id, fresh=fresh)
    try:
        if unit is None:
            raise repository.no_unit(stay.accommodation_id)
        if not unit.active:
            raise AccommodationInactive(f"{unit.name} is not taking bookings")
        stay_quote, override = quotes.bookable(
            known, unit, stay.check_in, stay.check_out, stay.guests, override_reason=stay.override_reason
        )
        price = Price.of(stay_quote, stay.price)  # an agreed discount is checked against the list total
    except AppError:
        if kept:  # refused on rows this process kept, which may be stale: refuse on fresh ones only
            raise _CatalogChanged from None
        raise
    expires_at = None
    if stay.status is ReservationStatus.pre_reserved:
        expires_at = utc_now() + window(known.policy, stay.payment_method)
    data: dict[str, Any] = {"payment_method": stay.payment_method} if expires_at else {}
    if price.reason is not None:
        data["agreed_price"] = _price_facts(price)
    if override is not None:
        data["override"] = override
    reservation = await _insert(
        session,
        {
            "accommodation_id": unit.id,
            "check_in": stay.check_in,
            "check_out": stay.check_out,
            "guests": stay.guests,
            "guest_name": stay.guest_name,
            "guest_phone": stay.guest_phone,
            "guest_email": stay.guest_email,
            "status": stay.status.value,
            "source": stay.source.value,
            "total_amount": price.total,
            "deposit_amount": price.deposit,
            "list_amount": price.list_amount,
            "price_reason": price.reason,
            "expires_at": expires_at,
            "notes": stay.notes,
            "payment_method": stay.payment_method if expires_at else None,
        },
        actor=actor,
        data=data,
        catalog_version=version,
    )
    log.info(
        "reservation.created",
        extra={"code": reservation.code, "status": reservation.status, "source": stay.source},
    )
    return reservation


async def block(session: AsyncSession, new: NewBlock, *, actor: str) -> Reservation:
    """Close a unit's dates ourselves; exported to Airbnb and Booking like any stay."""
    unit = await repository.accommodation(session, new.accommodation_id)
    await quotes.not_in_past(session, new.check_in)
    reason = new.reason.strip() or "Bloqueo"
    blocked = await _insert(
        session,
        {
            "accommodation_id": unit.id,
            "check_in": new.check_in,
            "check_out": new.check_out,
            "guests": 1,
            "guest_name": reason[:200],
            "guest_phone": None,
            "status": ReservationStatus.confirmed.value,
            "source": ReservationSource.admin.value,
            "kind": "block",
            "total_amount": Decimal("0.00"),
            "deposit_amount": Decimal("0.00"),
        },
        actor=actor,
        reason=reason,
        notify=False,
    )
    log.info("reservation.blocked", extra={"code": blocked.code, "accommodation_id": unit.id})
    return blocked


async def hold_window(session: AsyncSession, payment_method: str) -> timedelta:
    return window(await pricing.settings(session), payment_method)


def window(policy: PriceSettings, payment_method: str) -> timedelta:
    """How long a hold waits for its deposit by `payment_method` (the operator's booking policy)."""
    if payment_method == "mercadopago":
        return timedelta(minutes=policy.hold_minutes_mercadopago)
    return timedelta(hours=policy.hold_hours_transfer)


# Every column a new row sets (the rest take their defaults).
_NEW_ROW = (
    "accommodation_id",
    "check_in",
    "check_out",
    "guests",
    "guest_name",
    "guest_phone",
    "guest_email",
    "status",
    "source",
    "kind",
    "total_amount",
    "deposit_amount",
    "list_amount",
    "price_reason",
    "expires_at",
    "notes",
    "payment_method",
)
_ROW_DEFAULTS: dict[str, Any] = {
    "guest_email": None,
    "kind": "stay",
    "list_amount": None,
    "price_reason": None,
    "expires_at": None,
    "notes": "",
    "payment_method": None,
}


@cache
def _written(notify: bool) -> Executable:
    """The row under a fresh code, its creation event and (`notify`) its job and wake-up: built once,
    every value bound at execution (`new_<column>`, `new_code`, `events.event_params`)."""
    columns = Reservation.__table__.c
    # `catalog_version`: the version the stay was priced with (`quotes.booking_facts`), or None when
    # it was priced in this statement's transaction; a newer one inserts nothing and answers `stale`.
    priced_with = bindparam("catalog_version", type_=BigInteger)
    current = or_(priced_with.is_(None), quotes.catalog_version() == priced_with)
    names = ("code", *_NEW_ROW)
    new = (
        pg_insert(Reservation)
        .from_select(
            names,
            select(*(bindparam(f"new_{name}", type_=columns[name].type) for name in names)).where(current),
        )
        .on_conflict_do_nothing()
        .returning(*columns)
        .cte("new")
    )
    event, woken = events.chained(new, from_status=None, notify=notify)
    written = select(new, event, woken, false().label("stale")).join_from(
        new, event, event.c.reservation_id == new.c.id
    )
    no_event = (
        *(cast(null(), c.type).label(c.name) for c in ReservationEvent.__table__.c),
        literal_column("0").label("woken"),
    )
    no_row = (cast(null(), c.type).label(c.name) for c in Reservation.__table__.c)
    stale = select(*no_row, *no_event, true().label("stale")).where(~current)
    # Refused: the first occupying stay in the way, as a reservation row with no event. It reads the
    # statement's snapshot, so a competitor the exclusion check waited for is not in it (`_insert`).
    in_the_way = (
        repository.overlapping(
            bindparam("new_check_in", type_=columns["check_in"].type),
            bindparam("new_check_out", type_=columns["check_out"].type),
        )
        .with_only_columns(
            *Reservation.__table__.c,
            *no_event,
            false().label("stale"),
        )
        .where(
            Reservation.accommodation_id
            == bindparam("new_accommodation_id", type_=columns["accommodation_id"].type),
            ~exists(select(new.c.id)),
            current,
        )
        .order_by(Reservation.check_in)
        .limit(1)
    )
    every = union_all(written, in_the_way, stale)
    return select(Reservation, ReservationEvent, every.selected_columns.stale).from_statement(every)


async def _insert(
    session: AsyncSession,
    values: dict[str, Any],
    *,
    actor: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    notify: bool = True,
    catalog_version: int | None = None,
) -> Reservation:
    """Insert the row `values` describe under a fresh code, with its creation event (and, `notify`,
    its job), in one statement; DatesUnavailable (409) when an occupying stay shares a night;
    _CatalogChanged when `catalog_version` is given and no longer current (nothing is inserted).

    `ON CONFLICT DO NOTHING` (no target) covers both the exclusion constraint and the unique code, so
    a refusal leaves the transaction usable (no savepoint). A refusal returns the stay in the way with
    no event when the statement's snapshot holds it; when nothing comes back (a competitor committed
    while the check waited for it, after our snapshot) one more read looks for it; none means the
    code was taken, so draw another.
    """
    row_values = {**_ROW_DEFAULTS, **values}
    params = {f"new_{name}": row_values[name] for name in _NEW_ROW}
    params |= events.event_params(values["status"], actor=actor, reason=reason, data=data)
    params["catalog_version"] = catalog_version
    for _attempt in range(5):
        row = (await session.execute(_written(notify), {**params, "new_code": new_code()})).first()
        unit_id, check_in, check_out = values["accommodation_id"], values["check_in"], values["check_out"]
        if row is not None and row[2]:
            raise _CatalogChanged
        if row is not None and row[1] is not None:
            reservation: Reservation = row[0]
            created: ReservationEvent = row[1]
            set_committed_value(reservation, "events", [created])
            count_transition(session, None, values["status"])
            return reservation
        if row is not None:  # refused, and the statement saw the stay in the way
            raise _unavailable(unit_id, row[0])
        # Refused with nothing in the statement's snapshot: the stay in the way may have committed while
        # the exclusion check waited for it, visible only to a new statement (READ COMMITTED).
        other = await clash(session, unit_id, check_in, check_out)
        if other is not None:
            raise _unavailable(unit_id, other)
        # Nothing in the way: the code was taken (or the stay in the way just ended). Draw again.
    raise RuntimeError("could not draw a free reservation code in 5 attempts")


async def clash(
    session: AsyncSession,
    accommodation_id: int,
    check_in: date,
    check_out: date,
    *,
    besides: str | None = None,
) -> Reservation | None:
    """The first occupying stay in the unit that shares a night with the range (`besides`: a stay
    being moved, which never clashes with itself)."""
    query = repository.overlapping(check_in, check_out, besides=besides).where(
        Reservation.accommodation_id == accommodation_id
    )
    return await session.scalar(query.order_by(Reservation.check_in).limit(1))


async def dates_unavailable(
    session: AsyncSession,
    accommodation_id: int,
    check_in: date,
    check_out: date,
    *,
    besides: str | None = None,
) -> DatesUnavailable:
    """Name the stay we collided with (it is committed: the constraint waited for it), or None as the
    conflict when the other stay was gone by the time we looked."""
    other = await clash(session, accommodation_id, check_in, check_out, besides=besides)
    return _unavailable(accommodation_id, other)


def _unavailable(accommodation_id: int, other: Reservation | None) -> DatesUnavailable:
    """`conflict` is `{"code", "kind" ("stay" | "block"), "check_in", "check_out"}`, or None."""
    conflict = (
        {
            "code": other.code,
            "kind": other.kind,
            "check_in": other.check_in.isoformat(),
            "check_out": other.check_out.isoformat(),
        }
        if other
        else None
    )
    where = f" ({conflict['code']}, {conflict['check_in']} to {conflict['check_out']})" if conflict else ""
    return DatesUnavailable(
        f"those dates overlap another stay in this unit{where}",
        accommodation_id=accommodation_id,
        conflict=conflict,
    )


def _price_facts(price: Price) -> dict[str, Any]:
    """An agreed price as the timeline keeps it (JSON)."""
    return {
        "total": str(price.total),
        "list_total": str(price.list_amount) if price.list_amount is not None else None,
        "reason": price.reason,
    }

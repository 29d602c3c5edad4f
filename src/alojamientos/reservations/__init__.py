"""Reservations: units, quotes, holds and every state change, one plain module of functions per topic.

PostgreSQL decides overlaps (the `reservations_no_overlap` exclusion constraint) and every state
change is a conditional UPDATE whose row count says whether it happened; each one writes its
`ReservationEvent` in the same transaction. Nothing here commits: the caller owns the transaction.

- `units`: creating and editing units.        - `quotes`: prices, stay rules and availability.
- `holds`: new holds and our own blocks.       - `changes`: moving a stay, its price, the guest.
- `transitions`: confirm, cancel, expire...    - `events`: the timeline entry and its notify job.
- `repository`: queries, and reading one unit or reservation by key.
- `types`: the inputs and values the modules share; `codes`: reservation codes.
"""

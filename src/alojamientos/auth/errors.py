from __future__ import annotations

from alojamientos.errors import Conflict, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class OperatorExists(Conflict):
    code = "operator_exists"

from __future__ import annotations

from alojamientos.errors import Conflict, InvalidInput, NotFound, Unauthorized


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"


class OperatorExists(Conflict):
    code = "operator_exists"


class PasswordTooShort(InvalidInput):
    code = "password_too_short"


class InvalidEmail(InvalidInput):
    code = "invalid_email"


class OperatorNotFound(NotFound):
    code = "operator_not_found"


class CannotDeactivateSelf(Conflict):
    code = "operator_self"


class LastActiveOperator(Conflict):
    code = "last_operator"

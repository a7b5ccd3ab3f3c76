"""The one error the authentication layer raises.

The HTTP stage turns it into a 401 (or `status`) with a GraphQL error body and the
`WWW-Authenticate` header below, so a client learns why its token was refused without
ever seeing a stack trace.
"""

from __future__ import annotations


def bearer_challenge(error: str = "invalid_token", description: str | None = None) -> str:
    """An RFC 6750 `WWW-Authenticate` value; quotes are stripped so the header stays well-formed."""
    value = f'Bearer error="{error}"'
    if description:
        value += ', error_description="' + description.replace('"', "'").replace("\\", "/") + '"'
    return value


class AuthenticationError(Exception):
    """A credential was presented and it is not acceptable.

    `message` is safe to show to the client: it names the problem (expired, wrong audience...)
    and never echoes secrets or key material.
    """

    code = "UNAUTHENTICATED"

    def __init__(self, message: str, status: int = 401, www_authenticate: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.www_authenticate = www_authenticate if www_authenticate is not None else bearer_challenge(
            "invalid_token", message
        )

    def to_graphql_error(self) -> dict:
        """The body entry the HTTP stage puts in `errors` for this failure."""
        return {"message": self.message, "extensions": {"code": self.code, "http": {"status": self.status}}}

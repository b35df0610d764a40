"""Staff accounts and sign-in for tests."""

from __future__ import annotations

from intake.runtime import Runtime


def create_staff(runtime: Runtime, email: str, role: str, authority: str | None = None) -> str:
    """A staff account; returns its password."""
    from intake.security import staff

    with runtime.db.transaction() as session:
        return staff.create_user(session, email, role, authority)


def sign_in(client, email: str, password: str):  # type: ignore[no-untyped-def]
    from tests.helpers.forms import CSRF

    page = client.get("/desk/login")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    return client.post("/desk/login", data={"csrf_token": token, "email": email,
                                            "password": password})


"""Staff accounts and sign-in for tests."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pyotp

from intake.runtime import Runtime

_KEY = re.compile(r'<code class="key" translate="no">([A-Z2-7 ]+)</code>')
READY_PASSWORD = "lantern orbit velvet quarry"


@dataclass
class Account:
    """A staff account as its owner knows it: e-mail, password, authenticator key."""

    email: str
    password: str
    totp_key: str | None = None
    used_steps: set[int] = field(default_factory=set)

    def code(self) -> str:
        """The app's code, as an owner signing in twice within 30 s would wait for the next."""
        totp = pyotp.TOTP(self.totp_key or "")
        step = totp.timecode(dt.datetime.now(dt.UTC))
        while step in self.used_steps:
            step += 1
        self.used_steps.add(step)
        return totp.generate_otp(step)


def create_staff(runtime: Runtime, email: str, role: str, authority: str | None = None,
                 *, authorities: tuple[str, ...] = ()) -> Account:
    """A staff account whose owner has already chosen a password and set up an
    authenticator app (the first sign-in is tested by itself, in tests/security)."""
    from intake.security import second_factor, staff

    bound = authorities or ((authority,) if authority else ())
    with runtime.db.transaction() as session:
        staff.create_user(session, email, role, bound)
        user = staff.by_email(session, email)
        assert user is not None
        staff.change_password(session, user, READY_PASSWORD, None)
        key = second_factor.pending_secret(runtime.cipher, user)
        assert second_factor.confirm(runtime.cipher, user, pyotp.TOTP(key).now(),
                                     dt.datetime.now(dt.UTC))
        user.totp_last_step = None  # the owner's first sign-in may use the same code
    return Account(email, READY_PASSWORD, key)


def let_time_pass(runtime: Runtime, account: Account) -> None:
    """As if the owner waited for the app's next code: a code is taken once, and signing in
    a third time within 30 s would need a code from beyond the allowed drift."""
    from sqlalchemy import update

    from intake.store import models

    with runtime.db.transaction() as session:
        session.execute(update(models.StaffUser).where(models.StaffUser.email == account.email)
                        .values(totp_last_step=None))
    account.used_steps.clear()


def csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    from tests.helpers.forms import CSRF

    page = client.get(path)
    return CSRF.search(page.text).group(1)  # type: ignore[union-attr]


def sign_in_with_password(client, email: str, password: str):  # type: ignore[no-untyped-def]
    """The first page only: the answer sends a right password on to its next stage."""
    return client.post("/desk/login", data={"csrf_token": csrf(client, "/desk/login"),
                                            "email": email, "password": password})


def sign_in(client, account: Account):  # type: ignore[no-untyped-def]
    """Password, then the app's code: the answer opens the desk (303) or says why not."""
    answer = sign_in_with_password(client, account.email, account.password)
    if answer.status_code != 303 or "/desk/code" not in answer.location:
        return answer
    return client.post(answer.location, data={"csrf_token": csrf(client, answer.location),
                                              "code": account.code()})


def first_sign_in(client, email: str, one_time_password: str,  # type: ignore[no-untyped-def]
                  new_password: str = READY_PASSWORD) -> Account:
    """A new account's first sign-in as its owner walks it: the one-time password, a password
    of their own, the authenticator app set up, the recovery codes read."""
    answer = sign_in_with_password(client, email, one_time_password)
    assert answer.status_code == 303 and answer.location.endswith("/desk/password"), answer
    answer = client.post("/desk/password", data={
        "csrf_token": csrf(client, "/desk/password"), "new_password": new_password,
        "repeat_password": new_password,
    })
    assert answer.status_code == 303 and answer.location.endswith("/desk/enrol"), answer
    page = client.get("/desk/enrol")
    account = Account(email, new_password, _KEY.search(page.text).group(1).replace(" ", ""))  # type: ignore[union-attr]
    answer = client.post("/desk/enrol", data={"csrf_token": csrf(client, "/desk/enrol"),
                                              "code": account.code()})
    assert answer.status_code == 200 and "recovery-codes" in answer.text, answer
    return account


def find_person(desk, name: str, born: str = ""):  # type: ignore[no-untyped-def]
    """The desk's name search, as a volunteer fills it in on the desk's home page."""
    from tests.helpers.forms import post

    return post(desk, "/desk/search", {"name": name, "date_of_birth": born}, page_path="/desk/")

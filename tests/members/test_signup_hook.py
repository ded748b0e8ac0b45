"""The sign-up hook other apps (referrals) register on."""

from __future__ import annotations

import pytest

from members.auth import services as auth_services
from members.auth.services import on_user_signed_up, user_signed_up
from members.models import User


@pytest.fixture
def listeners():
    saved = list(auth_services._signup_listeners)
    auth_services._signup_listeners.clear()
    yield auth_services._signup_listeners
    auth_services._signup_listeners[:] = saved


def test_listener_gets_user_code_and_source_once(listeners, member):
    calls = []

    def listener(*, user, referral_code, source):
        calls.append((user.pk, referral_code, source))

    on_user_signed_up(listener)
    on_user_signed_up(listener)  # registering twice is harmless
    user_signed_up(user=member, referral_code=" ABCD2345 ", source="miniprogram")
    assert calls == [(member.pk, "ABCD2345", "miniprogram")]


def test_a_failing_listener_does_not_undo_the_sign_up_or_stop_the_others(listeners, member):
    calls = []

    def broken(*, user, referral_code, source):
        User.objects.filter(pk=user.pk).update(nickname="changed by broken listener")
        raise RuntimeError("bug in a listener")

    def fine(*, user, referral_code, source):
        calls.append(user.pk)

    on_user_signed_up(broken)
    on_user_signed_up(fine)
    user_signed_up(user=member, referral_code="", source="web")
    member.refresh_from_db()
    assert calls == [member.pk]
    assert member.nickname != "changed by broken listener"  # its savepoint was rolled back

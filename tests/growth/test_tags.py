"""Member tags: operators tag members (the user list's actions, the tag's page), a rule tag follows its
rule when recomputed (adding and removing, the same however often it runs), and an import tags
everyone a CSV names — or nobody, listing each wrong row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import ApplicationError
from core.models import AuditLog
from growth import tasks
from growth.models import MemberTag, Tag
from growth.segments import tags
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IDLE_30 = {"conditions": [{"type": "activity", "visited": False, "days": 30}]}


def tagged(tag: Tag) -> set[str]:
    return set(MemberTag.objects.filter(tag=tag).values_list("user__username", flat=True))


@pytest.fixture
def operator():
    return UserFactory(is_staff=True, is_superuser=True, username="op")


def test_operators_tag_and_untag_members_audited(operator):
    tag = Tag.objects.create(name="重点客户")
    a, b = UserFactory(username="a"), UserFactory(username="b")
    assert tags.tag_add(tag=tag, users=[a, b], operator=operator) == 2
    assert tags.tag_add(tag=tag, users=[a], operator=operator) == 0  # once per member
    assert tagged(tag) == {"a", "b"}
    assert MemberTag.objects.get(tag=tag, user=a).added_by == operator
    assert tags.tag_remove(tag=tag, users=[a], operator=operator) == 1
    assert tagged(tag) == {"b"}
    assert AuditLog.objects.filter(action__in=["growth.tag_add", "growth.tag_remove"]).count() == 3


def test_a_rule_tag_follows_its_rule_adding_and_removing_idempotently():
    now = timezone.now()
    idle = UserFactory(username="idle", last_login=now - timedelta(days=40))
    UserFactory(username="never")
    back = UserFactory(username="back", last_login=now - timedelta(days=2))
    tag = Tag.objects.create(name="30 天未访问", kind=Tag.Kind.RULE, rule=IDLE_30)

    first = tags.rule_tag_recompute(tag_id=tag.pk)
    assert tagged(tag) == {"idle", "never"}
    assert (first.added, first.removed, first.total) == (2, 0, 2)
    again = tags.rule_tag_recompute(tag_id=tag.pk)
    assert (again.added, again.removed, again.total) == (0, 0, 2)
    assert tagged(tag) == {"idle", "never"}

    idle.last_login = now  # came back
    idle.save(update_fields=["last_login"])
    back.last_login = now - timedelta(days=31)  # went quiet
    back.save(update_fields=["last_login"])
    tasks.rule_tags_recompute()  # the nightly sweep
    assert tagged(tag) == {"never", "back"}
    assert set(MemberTag.objects.filter(tag=tag).values_list("source", flat=True)) == {"rule"}


def test_a_rule_tag_is_not_set_by_hand_or_import(operator):
    tag = Tag.objects.create(name="规则", kind=Tag.Kind.RULE, rule=IDLE_30)
    with pytest.raises(ApplicationError) as refused:
        tags.tag_add(tag=tag, users=[UserFactory()], operator=operator)
    assert refused.value.code == "tag_is_rule"
    with pytest.raises(ApplicationError):
        tags.tag_import(tag=tag, raw=b"member_no\nVIP001\n", operator=operator)


def test_a_rule_tag_may_not_ask_for_itself():
    tag = Tag.objects.create(name="自引用", kind=Tag.Kind.RULE)
    with pytest.raises(ApplicationError) as refused:
        tags.tag_rule_check(tag=tag, rule={"conditions": [{"type": "tags", "tag_ids": [tag.pk]}]})
    assert "自身" in refused.value.message


def member_with(member_no: str = "", phone: str = "", **fields):
    user = UserFactory(member_no=member_no or None, **fields)
    if phone:
        user.set_phone(phone, verified=True)
        user.save()
    return user


def test_import_tags_members_by_member_number_or_phone(operator):
    member_with(member_no="VIP00001", username="by_no")
    member_with(phone="13900139000", username="by_phone")
    tag = Tag.objects.create(name="线下沙龙", kind=Tag.Kind.IMPORT)
    raw = b"member_no\nVIP00001\n139 0013 9000\nVIP00001\n"
    assert tags.tag_import(tag=tag, raw=raw, operator=operator) == 2
    assert tagged(tag) == {"by_no", "by_phone"}
    assert set(MemberTag.objects.filter(tag=tag).values_list("source", flat=True)) == {"import"}


def test_a_file_with_bad_rows_tags_nobody_and_says_which_rows(operator):
    member_with(member_no="VIP00001", username="good")
    tag = Tag.objects.create(name="线下沙龙", kind=Tag.Kind.IMPORT)
    raw = "会员编号\nVIP00001\nVIP09999\n,备注\n13700000000\n".encode("gb18030")  # Excel's encoding in China
    with pytest.raises(ApplicationError) as refused:
        tags.tag_import(tag=tag, raw=raw, operator=operator)
    assert refused.value.code == "import_rows_invalid"
    assert refused.value.fields["file"] == [
        "第 3 行：找不到会员 VIP09999",
        "第 4 行：第一列为空",
        "第 5 行：找不到会员 13700000000",
    ]
    assert not MemberTag.objects.exists()


def test_an_empty_or_unreadable_file_is_refused(operator):
    tag = Tag.objects.create(name="空", kind=Tag.Kind.IMPORT)
    for raw in (b"", b"member_no\n", b"\xff\xfe\x00\x00" * 3):
        with pytest.raises(ApplicationError):
            tags.tag_import(tag=tag, raw=raw, operator=operator)
    assert not MemberTag.objects.exists()

"""Member tags: operators tag and untag members (admin action on users, the tag page), a rule tag is
recomputed from its rule (the sweep and an admin button), and a CSV of member numbers or phone numbers
tags everyone it names — or, when any row is wrong, nobody, with every wrong row said.

The rules:
- a rule tag's members are exactly the members its rule matches: recomputing adds the missing and
  removes the rest, in one transaction with the tag's row locked, so running it twice (or twice at
  once) ends in the same set; operators and imports do not tag with a rule tag;
- a member carries a tag at most once (a database constraint); tagging again keeps the first source;
- every operator change is in the audit log."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.crypto import keyed_hash, normalize_phone
from core.errors import ApplicationError
from growth.models import MemberTag, Tag
from growth.segments.rules import rule_queryset, rule_validate
from members.models import User

MAX_IMPORT_ROWS = 20_000
MAX_IMPORT_BYTES = 2 * 1024 * 1024
HEADER_WORDS = {"member_no", "phone", "会员编号", "手机号", "手机", "编号"}
_PHONE = re.compile(r"^\+?[\d\s-]{11,16}$")


def tag_check_settable(tag: Tag) -> None:
    if tag.kind == Tag.Kind.RULE:
        raise ApplicationError(
            "tag_is_rule", _("「%(tag)s」是规则标签，成员由规则计算，不能手动增减") % {"tag": tag.name}
        )


def tag_add(*, tag: Tag, users: list[User], operator, source: str = MemberTag.Source.MANUAL) -> int:
    """Tag the members (those already tagged keep their row); returns how many were newly tagged."""
    tag_check_settable(tag)
    ids = sorted({user.pk for user in users})
    with transaction.atomic():
        created = _add(tag=tag, user_ids=ids, source=source, operator=operator)
        audit_record(
            actor=operator,
            action="growth.tag_add",
            target=tag,
            summary=f"为 {created} 位会员打上标签「{tag.name}」",
            source=source,
            users=ids[:100],
        )
    return created


def _add(*, tag: Tag, user_ids: list[int], source: str, operator) -> int:
    before = MemberTag.objects.filter(tag=tag).count()
    MemberTag.objects.bulk_create(
        [
            MemberTag(
                user_id=pk,
                tag=tag,
                source=source,
                added_by=operator if getattr(operator, "pk", None) else None,
            )
            for pk in user_ids
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return MemberTag.objects.filter(tag=tag).count() - before


def tag_remove(*, tag: Tag, users: list[User], operator) -> int:
    """Untag the members; returns how many carried it."""
    tag_check_settable(tag)
    ids = sorted({user.pk for user in users})
    with transaction.atomic():
        removed, _detail = MemberTag.objects.filter(tag=tag, user_id__in=ids).delete()
        audit_record(
            actor=operator,
            action="growth.tag_remove",
            target=tag,
            summary=f"移除 {removed} 位会员的标签「{tag.name}」",
            users=ids[:100],
        )
    return removed


@dataclass(frozen=True)
class Recomputed:
    added: int
    removed: int
    total: int


def rule_tag_recompute(*, tag_id: int, now=None) -> Recomputed | None:
    """Make a rule tag's members exactly its rule's matches. Idempotent; concurrent runs queue on the
    tag's row. None when the tag is gone or no longer a rule tag."""
    with transaction.atomic():
        tag = Tag.objects.select_for_update().filter(pk=tag_id, kind=Tag.Kind.RULE).first()
        if tag is None:
            return None
        matching = rule_queryset(tag.rule, now=now).values("pk")
        removed, _detail = MemberTag.objects.filter(tag=tag).exclude(user_id__in=matching).delete()
        held = MemberTag.objects.filter(tag=tag).values("user_id")
        missing = list(rule_queryset(tag.rule, now=now).exclude(pk__in=held).values_list("pk", flat=True))
        added = _add(tag=tag, user_ids=missing, source=MemberTag.Source.RULE, operator=None)
        tag.recomputed_at = now or timezone.now()
        tag.save(update_fields=["recomputed_at"])
        total = MemberTag.objects.filter(tag=tag).count()
    return Recomputed(added=added, removed=removed, total=total)


def rule_tags_recompute_all(*, now=None) -> dict[str, Recomputed]:
    """Every rule tag, each in its own transaction (the daily sweep)."""
    results = {}
    for tag_id, name in Tag.objects.filter(kind=Tag.Kind.RULE).order_by("pk").values_list("pk", "name"):
        try:
            result = rule_tag_recompute(tag_id=tag_id, now=now)
        except ApplicationError:  # its rule names a tier, camp or tag since deleted: left as it was
            continue
        if result is not None:
            results[name] = result
    return results


def tag_rule_check(*, tag: Tag, rule) -> dict:
    """A rule tag's rule, validated; it may not ask for the tag itself (its members would depend on
    what the last run left)."""
    rule = rule_validate(rule)
    for condition in rule["conditions"]:
        if condition["type"] == "tags" and tag.pk in condition["tag_ids"]:
            raise ApplicationError(
                "segment_rule_invalid",
                _("规则不能引用标签自身"),
                fields={"rule": [_("规则不能引用标签自身")]},
            )
    return rule


# ---- import -----------------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    users: list[User] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    rows: int = 0


def identifiers_read(raw: bytes) -> list[tuple[int, str]]:
    """(line number, first cell) of each non-empty row of a CSV: UTF-8 (with or without BOM) or the
    GB18030 that Excel saves in China; a first row of column names is skipped."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise ApplicationError(
            "import_too_large", _("文件过大（最多 2 MB）"), fields={"file": [_("文件过大")]}
        )
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ApplicationError(
            "import_encoding", _("无法读取文件编码，请另存为 UTF-8 CSV"), fields={"file": [_("编码无法识别")]}
        )
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cell = (row[0] if row else "").strip()
        if number == 1 and cell.lower() in HEADER_WORDS:
            continue
        if cell or any(c.strip() for c in row):
            rows.append((number, cell))
    if len(rows) > MAX_IMPORT_ROWS:
        raise ApplicationError(
            "import_too_many_rows",
            _("最多 %(n)s 行") % {"n": MAX_IMPORT_ROWS},
            fields={"file": [_("最多 %(n)s 行") % {"n": MAX_IMPORT_ROWS}]},
        )
    return rows


def members_find(rows: list[tuple[int, str]]) -> ImportReport:
    """The members named by member numbers or phone numbers, in two statements; an error for each row
    naming nobody (`第 3 行：找不到会员 VIP0009`)."""
    report = ImportReport(rows=len(rows))
    phones = {
        value: keyed_hash(normalize_phone(value), purpose="phone")
        for _n, value in rows
        if _PHONE.match(value)
    }
    numbers = {value for _n, value in rows if value and value not in phones}
    by_number = {u.member_no: u for u in User.objects.filter(member_no__in=numbers)}
    by_hash = {u.phone_hash: u for u in User.objects.filter(phone_hash__in=set(phones.values()))}
    seen: set[int] = set()
    for number, value in rows:
        if not value:
            report.errors.append(_("第 %(n)s 行：第一列为空") % {"n": number})
            continue
        user = by_hash.get(phones[value]) if value in phones else by_number.get(value)
        if user is None:
            report.errors.append(_("第 %(n)s 行：找不到会员 %(value)s") % {"n": number, "value": value[:40]})
        elif user.pk not in seen:
            seen.add(user.pk)
            report.users.append(user)
    return report


def tag_import(*, tag: Tag, raw: bytes, operator, source: str = MemberTag.Source.IMPORT) -> int:
    """Tag every member a CSV names (first column: member number or phone number). Any wrong row
    refuses the whole file (ApplicationError with one line per row in `fields["file"]`): nothing is
    half applied. Returns how many members were newly tagged."""
    tag_check_settable(tag)
    rows = identifiers_read(raw)
    if not rows:
        raise ApplicationError("import_empty", _("文件中没有会员"), fields={"file": [_("文件中没有会员")]})
    report = members_find(rows)
    if report.errors:
        raise ApplicationError(
            "import_rows_invalid",
            _("%(n)s 行有误，未导入任何会员") % {"n": len(report.errors)},
            fields={"file": report.errors[:200]},
        )
    return tag_add(tag=tag, users=report.users, operator=operator, source=source)

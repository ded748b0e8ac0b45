"""English is real: a complete, compiled catalog, pages without Chinese in English, API errors in English.

The source strings are Chinese (zh-hans, the default). `locale/en/LC_MESSAGES/django.po` holds the English
translation and the compiled `django.mo` beside it is committed (the demo runs without GNU gettext).
After adding or changing a translatable string: `scripts/messages.sh`, translate the new entries in the
.po, then `scripts/messages.sh --compile` (see the script).

These checks read the catalog in pure Python, so they run without gettext installed.
"""

from __future__ import annotations

import ast
import gettext as gnu_gettext
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation.template import templatize
from rest_framework.test import APIClient

from tests.project_apps import PROJECT_APPS

BASE = Path(settings.BASE_DIR)
PO_PATH = BASE / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# Han ideographs, CJK punctuation (、。「」【】) and full-width forms (，：（）！？).
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGcuo%]")


# ---- the catalog, read without GNU gettext ----------------------------------------------------------


def _unquote(text: str) -> str:
    return ast.literal_eval(text)  # PO strings use C escapes, which Python's literals share


def read_po(path: Path) -> list[dict]:
    """Entries of a PO file: msgctxt, msgid, msgid_plural, msgstr (list of forms), flags. Obsolete ones skipped."""
    entries: list[dict] = []
    entry: dict | None = None
    key = None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if entry is not None and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgstr": {}}
        if line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if isinstance(key, int):
                entry["msgstr"][key] += _unquote(line)
            else:
                entry[key] += _unquote(line)
        else:
            match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (\".*\")$", line)
            assert match, f"{path}: cannot read line {raw!r}"
            name, index, value = match.groups()
            if name.startswith("msgstr"):
                key = int(index or 0)
                entry["msgstr"][key] = _unquote(value)
            else:
                key = name
                entry[name] = _unquote(value)
    return [e for e in entries if not e.get("obsolete")]


def catalog_entries() -> list[dict]:
    return [e for e in read_po(PO_PATH) if e["msgid"]]


def _placeholders(text: str) -> list[str]:
    return sorted(p for p in PLACEHOLDER.findall(text) if p != "%%")


def test_every_message_has_an_english_translation():
    entries = catalog_entries()
    assert len(entries) > 1500, "the catalog looks truncated"
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    plural_gaps = [e["msgid"] for e in entries if "msgid_plural" in e and sorted(e["msgstr"]) != [0, 1]]
    assert not untranslated, f"{len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{len(fuzzy)} fuzzy (check and unmark), e.g. {fuzzy[:5]}"
    assert not plural_gaps, f"English needs two plural forms: {plural_gaps[:5]}"


def test_translations_are_english_and_keep_every_placeholder():
    """A lost or renamed %(name)s breaks the page at render time; leftover Chinese is not English."""
    # Values WeChat requires in Chinese (the transfer scene report example in admin help text).
    allowed_chinese = {"岗位类型", "推广员"}
    broken, chinese = [], []
    for e in catalog_entries():
        sources = [e["msgid"], e.get("msgid_plural", e["msgid"])]
        for index, text in e["msgstr"].items():
            source = sources[min(index, 1)]
            if "python-format" in e["flags"] and _placeholders(text) != _placeholders(source):
                # English may drop the count in the singular form ("1 day left" for %(days)s).
                if not (
                    "msgid_plural" in e
                    and index == 0
                    and set(_placeholders(text)) < set(_placeholders(source))
                ):
                    broken.append((e["msgid"], text))
            leftover = set(re.findall(r"[\u4e00-\u9fff]+", text)) - allowed_chinese
            if leftover or re.search(r"[\uff00-\uffef\u3000-\u303f]", text):
                chinese.append((e["msgid"], text))
    assert not broken, f"placeholders differ from the source: {broken[:5]}"
    assert not chinese, f"Chinese left in English translations: {chinese[:5]}"


def test_the_committed_mo_matches_the_po():
    """`make demo` uses the committed .mo (no gettext there): it must be compiled from this very .po."""
    assert MO_PATH.exists(), "compile the catalog: scripts/messages.sh --compile"
    with MO_PATH.open("rb") as handle:
        compiled = gnu_gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    expected: dict = {}
    for e in catalog_entries():
        msgid = e["msgid"] if "msgctxt" not in e else f"{e['msgctxt']}\x04{e['msgid']}"
        if "msgid_plural" in e:
            for index, text in e["msgstr"].items():
                expected[(msgid, index)] = text
        else:
            expected[msgid] = e["msgstr"][0]
    compiled = {key: value for key, value in compiled.items() if key != ""}
    missing = sorted(str(k) for k in expected.keys() - compiled.keys())
    stale = sorted(str(k) for k in compiled.keys() - expected.keys())
    changed = sorted(str(k) for k in expected.keys() & compiled.keys() if expected[k] != compiled[k])
    assert not (missing or stale or changed), (
        f"django.mo is out of date (scripts/messages.sh --compile): missing {missing[:3]}, "
        f"stale {stale[:3]}, changed {changed[:3]}"
    )


# ---- the catalog covers the source ------------------------------------------------------------------

GETTEXT_FUNCTIONS = {
    "_": (0,),
    "gettext": (0,),
    "gettext_lazy": (0,),
    "gettext_noop": (0,),
    "ngettext": (0, 1),
    "ngettext_lazy": (0, 1),
    "pgettext": (1,),
    "pgettext_lazy": (1,),
}
SOURCE_DIRS = ("config", *PROJECT_APPS)


def _python_msgids(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        for position in GETTEXT_FUNCTIONS.get(name, ()):
            if position < len(node.args):
                arg = node.args[position]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


TEMPLATIZED_CALL = re.compile(r"\b(n?p?gettext)\(((?:\s*u?'(?:[^'\\]|\\.)*'\s*,?)+)")
TEMPLATIZED_STRING = re.compile(r"u?('(?:[^'\\]|\\.)*')")


def _template_msgids(path: Path) -> set[str]:
    """The msgids makemessages extracts from a template: Django's own templatize, then its gettext calls."""
    found = set()
    for call in TEMPLATIZED_CALL.finditer(templatize(path.read_text(encoding="utf-8"), origin=str(path))):
        strings = [ast.literal_eval(s) for s in TEMPLATIZED_STRING.findall(call.group(2))]
        found.update(
            strings[1:] if call.group(1).lstrip("n").startswith("p") else strings
        )  # pgettext: context first
    return found


def test_every_translatable_string_in_the_source_is_in_the_catalog():
    """A new `_("…")` or `{% trans %}` without an English entry would show Chinese to English readers."""
    source: dict[str, str] = {}
    for folder in SOURCE_DIRS:
        for path in sorted((BASE / folder).rglob("*.py")):
            if "migrations" not in path.parts:
                for msgid in _python_msgids(path):
                    source.setdefault(msgid, str(path.relative_to(BASE)))
    for path in sorted((BASE / "templates").rglob("*")):
        if path.suffix in (".html", ".txt"):
            for msgid in _template_msgids(path):
                source.setdefault(msgid, str(path.relative_to(BASE)))
    assert len(source) > 1500, "the source scan found too little to be trusted"
    known = set()
    for e in catalog_entries():
        known.add(e["msgid"])
        if "msgid_plural" in e:
            known.add(e["msgid_plural"])
    missing = sorted((where, msgid) for msgid, where in source.items() if msgid not in known)
    assert not missing, (
        f"{len(missing)} strings are not in locale/en (run scripts/messages.sh, translate, compile): {missing[:5]}"
    )


def test_static_scripts_hold_no_chinese_ui_text():
    """Scripts get their texts from the page (data-* attributes rendered with {% trans %})."""
    offenders = []
    for path in sorted((BASE / "static" / "js").glob("*.js")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("//", 1)[0]
            if CJK.search(code):
                offenders.append(f"{path.name}:{number}")
    assert not offenders, offenders


# ---- pages in English ---------------------------------------------------------------------------------

LANGUAGE_OPTION = re.compile(r"<option [^>]*lang=\"(?!en\")[^\"]*\"[^>]*>[^<]*</option>")


def chinese_in(html: str) -> list[str]:
    """Chinese left on a page, ignoring the language switcher (each language is named in itself there)."""
    visible = LANGUAGE_OPTION.sub("", html)
    return [visible[max(m.start() - 40, 0) : m.end() + 40] for m in CJK.finditer(visible)]


@pytest.fixture
def english_world(db, settings, tmp_path_factory):
    """Members, tiers, a course, a circle with a post, earnings: all content in English, created by
    people using the English site (so order titles and notifications are English too)."""
    from circles.services import circles as circle_services
    from circles.services import posts as post_services
    from courses.models import Course, Lesson
    from members.models import Membership
    from payments.wallet import earnings
    from tests.factories import TierFactory, UserFactory
    from tests.payments.helpers import create_paid_order

    settings.PAYMENTS_SANDBOX_ENABLED = True
    settings.PAYMENTS_SANDBOX_KEY_DIR = tmp_path_factory.getbasetemp() / "sandbox_keys"
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"
    with translation.override("en"):
        vip = TierFactory(
            code="VIP",
            name="VIP",
            rank=1,
            price_fen=360_000,
            benefits="Every course\nOne offline event a year",
            single_purchase_discount_bp=1000,
        )
        ka = TierFactory(
            code="KA",
            name="KA",
            rank=2,
            price_fen=12_000_000,
            member_no_prefix="KA",
            benefits="Everything in VIP\nA personal adviser",
        )
        teacher = UserFactory(nickname="Teacher Wang")
        alice = UserFactory(nickname="Alice")
        owner = UserFactory(nickname="Bob")
        course = Course.objects.create(
            title="Growth Basics", summary="From zero to one", teacher=teacher, price_fen=19_900
        )
        course.included_in_tiers.set([vip])
        for position in (1, 2):
            Lesson.objects.create(
                course=course,
                title=f"Lesson {position}",
                position=position,
                kind=Lesson.Kind.VIDEO,
                media_url=f"https://media.example.com/{position}.mp4",
                duration_seconds=600,
                is_preview=position == 1,
            )
        now = timezone.now()
        Membership.objects.update_or_create(
            user=alice,
            defaults={
                "tier": vip,
                "starts_at": now - timedelta(days=10),
                "ends_at": now + timedelta(days=355),
            },
        )
        circle = circle_services.circle_create(
            owner=owner,
            name="Growth Circle",
            intro="We grow together",
            price_fen=19_900,
            rules_body="1. Be kind\n2. No ads",
            trial_days=3,
        )
        create_paid_order(user=alice, item_type="circle", item_id=str(circle.pk))
        circle_services.circle_rules_accept(circle=circle, user=alice)
        post_services.post_create(circle=circle, author=alice, title="Hello", body="Glad to be here")
        earnings.earning_accrue(
            user=alice,
            amount_fen=1_990,
            source="commission",
            idempotency_key="i18n-test-earning",
            hold_until=now + timedelta(days=7),
            description="Referral commission",
        )
    return {"alice": alice, "circle": circle, "course": course, "vip": vip, "ka": ka}


def english_client(user=None) -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    if user is not None:
        client.force_login(user)
    return client


def _assert_english(response, what: str, status: int = 200) -> str:
    assert response.status_code == status, f"{what}: {response.status_code}"
    html = response.content.decode()
    assert '<html lang="en">' in html, f"{what} is not rendered in English"
    leftovers = chinese_in(html)
    assert not leftovers, f"{what} shows Chinese in English: {leftovers[:5]}"
    return html


def test_key_pages_render_in_english(english_world):
    alice, circle = english_world["alice"], english_world["circle"]
    visitor, member = english_client(), english_client(alice)

    home = _assert_english(visitor.get("/"), "home")
    assert "See membership benefits" in home and "VIP" in home and "KA" in home
    assert "Every course" in home
    _assert_english(visitor.get("/membership/"), "tier comparison")
    catalog = _assert_english(visitor.get("/courses/"), "course catalog")
    assert "Growth Basics" in catalog and "2 lessons" in catalog
    _assert_english(member.get(f"/courses/{english_world['course'].pk}/"), "course page")
    join_box = _assert_english(visitor.get(f"/circles/{circle.pk}/"), "circle page for a visitor")
    assert "Growth Circle" in join_box and "Log in to join" in join_box
    feed = _assert_english(member.get(f"/circles/{circle.pk}/"), "circle page for a member")
    assert "Hello" in feed and "New post" in feed
    _assert_english(member.get("/circles/"), "circle list")
    login = _assert_english(visitor.get("/accounts/login/"), "login")
    assert "Log in" in login
    wallet = _assert_english(member.get("/payments/wallet/"), "wallet")
    assert "Referral commission" in wallet and "My wallet" in wallet
    center = _assert_english(member.get("/referrals/"), "referral center")
    assert "My referral code" in center
    checkout = _assert_english(
        member.get("/payments/checkout/", {"item_type": "membership", "item_id": "KA"}), "checkout"
    )
    assert "Upgrade to KA" in checkout and "Confirm order" in checkout
    account = _assert_english(member.get("/account/"), "account")
    assert "Orders and refunds" in account and "Log out" in account
    _assert_english(member.get("/payments/orders/"), "my orders")
    _assert_english(member.get("/courses/camps/"), "training camps")
    _assert_english(member.get("/account/points/"), "points")
    _assert_english(visitor.get("/no-such-page/"), "404 page", status=404)


def test_the_hubs_own_pages_render_in_english(english_world):
    """我的圈子, 电子票 and 训练营与证书, empty and with a circle, a ticket and a running camp term."""
    from courses.models import Camp, CampTask, Event, EventRegistration, Term, TermSeat

    alice = english_world["alice"]
    member = english_client(alice)
    circles = _assert_english(member.get("/circles/mine/"), "my circles")
    assert "Growth Circle" in circles and "Latest: " in circles and "Hello" in circles
    assert "Camps and certificates" in _assert_english(member.get("/courses/mine/camps/"), "no camps")
    assert "Browse events" in _assert_english(member.get("/courses/mine/tickets/"), "no tickets")

    starts = timezone.now() + timedelta(days=5)
    event = Event.objects.create(
        title="Growth Meetup",
        city="Shanghai",
        venue="Jing'an Hall",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        capacity=10,
        organizer=english_world["course"].teacher,
    )
    EventRegistration.objects.create(
        event=event, user=alice, status="confirmed", source="purchase", ticket_code="ABCDEFGH23"
    )
    camp = Camp.objects.create(title="Writing Camp", teacher=english_world["course"].teacher, days=7)
    CampTask.objects.create(camp=camp, day=3, title="Write 300 words", body="Write")
    term = Term.objects.create(
        camp=camp, name="Term 1", start_date=timezone.localdate() - timedelta(days=2), days=7
    )
    TermSeat.objects.create(term=term, user=alice, source="purchase")
    tickets = _assert_english(member.get("/courses/mine/tickets/"), "my tickets")
    assert "Growth Meetup" in tickets and "Valid" in tickets and "Coming up" in tickets
    camps = _assert_english(member.get("/courses/mine/camps/"), "my camps")
    assert "Writing Camp" in camps and "Today's task: Write 300 words" in camps and "Day 3 of 7" in camps


def test_the_same_pages_stay_chinese_by_default(english_world):
    client = Client()
    client.force_login(english_world["alice"])
    home = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in home and "你好" in home
    assert (
        "确认订单"
        in client.get("/payments/checkout/", {"item_type": "membership", "item_id": "KA"}).content.decode()
    )


def test_choosing_english_in_the_footer_switches_the_site(english_world):
    client = Client()
    page = client.get("/courses/").content.decode()
    assert "课程" in page
    assert 'value="en" lang="en"' in page and ">English</option>" in page and ">简体中文</option>" in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/courses/"})

    assert response.status_code == 302 and response["Location"] == "/courses/"
    english = client.get("/courses/").content.decode()
    assert '<html lang="en">' in english and not chinese_in(english)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/courses/"})
    assert '<html lang="zh-hans">' in client.get("/courses/").content.decode()


# ---- the API speaks the client's language ---------------------------------------------------------------


@pytest.mark.django_db
def test_api_errors_follow_accept_language():
    from tests.factories import UserFactory

    api = APIClient()
    api.force_authenticate(UserFactory())
    body = {"item_type": "membership", "item_id": "NOPE", "channel": "sandbox"}

    english = api.post("/api/v1/orders/", body, format="json", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    chinese = api.post("/api/v1/orders/", body, format="json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    default = api.post("/api/v1/orders/", body, format="json")

    assert english.status_code == chinese.status_code == default.status_code == 400
    assert english.json()["code"] == chinese.json()["code"]
    assert english.json()["message"] == "This membership tier does not exist or is no longer sold"
    assert chinese.json()["message"] == default.json()["message"] == "该会员等级不存在或已停售"


@pytest.mark.django_db
def test_api_validation_errors_follow_accept_language():
    from tests.factories import UserFactory

    api = APIClient()
    api.force_authenticate(UserFactory())

    english = api.post("/api/v1/orders/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = api.post("/api/v1/orders/", {}, format="json").json()

    assert english["code"] == chinese["code"] == "invalid"
    assert english["message"] == "Some of the submitted data is invalid"
    assert not CJK.search(str(english["fields"]))
    assert chinese["message"] == "提交的内容有误"
    assert CJK.search(str(chinese["fields"]))

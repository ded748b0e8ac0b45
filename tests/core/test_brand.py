"""The creator's brand: an operator renames the site and changes its colours in admin, and the next
page, the site icon and the next poster show it. "知圈" is only the default."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from core.models import Brand
from core.posters import render_poster
from referrals.posters import referral_poster_png
from tests.factories import UserFactory
from tests.project_apps import PROJECT_APPS

pytestmark = pytest.mark.django_db


def _brand_form(**overrides):
    data = {
        "site_name": "晨读社",
        "short_name": "晨读",
        "tagline": "每天一小时，读懂一本书",
        "description": "读书会员社群",
        "primary_color": "#3355cc",
        "accent_color": "#ff6600",
        "share_title": "晨读社 · 和我一起读书",
        "footer_text": "晨读文化有限公司",
        "terms_url": "/terms/",
        "privacy_url": "",
        "icp_text": "沪ICP备12345678号",
    }
    data.update(overrides)
    return data


def test_without_settings_the_site_is_called_zhiquan(client):
    page = client.get("/").content.decode()
    assert "<title>" in page and "知圈" in page
    css = client.get("/brand.css").content.decode()
    assert "--brand: #" in css and "--brand: #1aad19" not in css  # darkened to reach 4.5:1 with white text


def test_the_favicon_is_served_not_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(response.content)).size == (64, 64)


def test_operator_renames_and_recolours_and_the_next_page_and_poster_show_it(client, monkeypatch):
    from referrals.posters import referral_poster_png

    member = UserFactory()
    before = referral_poster_png(user=member)  # cached under the old brand
    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    response = client.post("/admin/core/brand/add/", _brand_form())
    assert response.status_code == 302, response.content.decode()[:2000]

    page = client.get("/").content.decode()
    assert "晨读社" in page and "晨读文化有限公司" in page and "沪ICP备12345678号" in page
    assert "知圈" not in page.split("<title>")[1].split("</title>")[0]
    assert 'content="#3355cc"' in page
    css_href = page.split('rel="stylesheet" href="/brand.css')[1].split('"')[0]
    css = client.get("/brand.css" + css_href).content.decode()
    # colours an operator picks are darkened only as far as white text on them needs (4.5:1)
    assert "--brand: #3355cc" in css and "--accent: #d93026" not in css

    written = []
    original_text = ImageDraw.ImageDraw.text

    def spy(self, xy, text, *args, **kwargs):
        written.append(text)
        return original_text(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", spy)
    after = referral_poster_png(user=member)
    assert after != before
    assert "晨读社" in written and "晨读社 · 和我一起读书" in written
    assert not any("知圈" in text for text in written)
    header = Image.open(io.BytesIO(after)).convert("RGB").getpixel((5, 5))
    assert header == (0x33, 0x55, 0xCC)

    # a second save (the singleton) changes it again at once
    response = client.post(
        "/admin/core/brand/1/change/", _brand_form(site_name="晚读社", primary_color="#aa0000")
    )
    assert response.status_code == 302
    assert "晚读社" in client.get("/").content.decode()


def test_the_brand_is_a_singleton_and_its_admin_list_opens_the_one_row(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/core/brand/").url == "/admin/core/brand/add/"  # none yet: straight to adding it
    client.logout()
    from core.models import Brand

    Brand.objects.create(site_name="甲")
    Brand(site_name="乙").save()
    assert Brand.objects.count() == 1 and Brand.objects.get().site_name == "乙"
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get("/admin/core/brand/")
    assert listing.status_code == 302 and listing.url == "/admin/core/brand/1/change/"  # the one row's form
    change = client.get("/admin/core/brand/1/change/").content.decode()
    assert 'type="color"' in change and "poster-preview.png" in change
    assert "_addanother" not in change  # no 保存并增加另一个 on a single record
    assert client.get("/admin/core/brand/poster-preview.png").status_code == 200


def test_an_invalid_colour_is_refused(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post("/admin/core/brand/add/", _brand_form(primary_color="blue"))
    assert response.status_code == 200 and "#RRGGBB" in response.content.decode()


# ---- posters follow the brand: name, colours, background; caches forget the old brand ----------------

BAND, FOOT = (5, 5), (5, 1195)  # a pixel of the brand band (top) and of the brand foot (bottom)
NAME_BOX = (130, 40, 720, 100)  # where the site's name is drawn, right of the logo
QR_BOX = (72, 780, 310, 1040)  # the QR code: it depends on the member's link only


def _pixels(png: bytes, box=None) -> Image.Image:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.crop(box) if box else image


def _save_brand(**fields):
    row = Brand.objects.filter(pk=1).first() or Brand()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save()
    return row


def test_renaming_and_recolouring_show_on_the_next_poster_at_once():
    """The issue's done-when with pixels: the cached poster is not served after a rename; the name is
    drawn where the brand's name goes (the QR, which depends on the link only, is unchanged); the band
    and the foot take the new colour."""
    member = UserFactory(nickname="张三")
    _save_brand(site_name="晨读社", short_name="晨读", primary_color="#3355cc")
    first = referral_poster_png(user=member)
    assert referral_poster_png(user=member) == first  # cached
    assert _pixels(first).getpixel(BAND) == (0x33, 0x55, 0xCC) == _pixels(first).getpixel(FOOT)

    _save_brand(site_name="晚读社")
    renamed = referral_poster_png(user=member)
    assert renamed != first
    assert _pixels(renamed, NAME_BOX).tobytes() != _pixels(first, NAME_BOX).tobytes()
    assert _pixels(renamed, QR_BOX).tobytes() == _pixels(first, QR_BOX).tobytes()

    _save_brand(primary_color="#aa0000")  # nothing else changes: only the colour invalidates the cache
    recoloured = referral_poster_png(user=member)
    assert _pixels(recoloured).getpixel(BAND) == (0xAA, 0, 0) == _pixels(recoloured).getpixel(FOOT)
    assert _pixels(recoloured, NAME_BOX).tobytes() != _pixels(renamed, NAME_BOX).tobytes()


def test_a_poster_background_shows_under_the_brand_colour(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (750, 400), (255, 255, 0)).save(buffer, format="PNG")
    row = _save_brand(site_name="晨读社", primary_color="#3355cc")
    plain = render_poster(title="标题", qr_payload="https://example.com/r/X/")
    row.poster_background.save("bg.png", ContentFile(buffer.getvalue()))
    veiled = _pixels(render_poster(title="标题", qr_payload="https://example.com/r/X/")).getpixel(BAND)
    assert _pixels(plain).getpixel(BAND) == (0x33, 0x55, 0xCC)
    assert veiled not in ((0x33, 0x55, 0xCC), (255, 255, 0))  # yellow under a blue veil
    assert veiled[0] > 0x33 and veiled[2] < 0xCC


# ---- the brand admin's live preview: what the operator types, before saving ------------------------


def test_the_live_preview_draws_the_operators_own_poster_from_unsaved_values(client):
    """The change form's preview follows the fields as typed (static/js/brand_preview.js asks for the
    poster with them): the poster is the operator's real community poster, in the typed colour and
    name, and nothing is saved until 保存."""
    _save_brand(site_name="晨读社", short_name="晨读", primary_color="#3355cc")
    operator = UserFactory(is_staff=True, is_superuser=True, nickname="运营小知")
    client.force_login(operator)
    change = client.get("/admin/core/brand/1/change/").content.decode()
    assert "data-brand-preview" in change and "js/brand_preview.js" in change
    assert 'data-preview="site_name">晨读社<' in change

    saved = client.get("/admin/core/brand/poster-preview.png")
    assert saved.status_code == 200 and saved["Content-Type"] == "image/png"
    assert saved.content == referral_poster_png(user=operator)  # the real poster, not a sample
    typed = client.get(
        "/admin/core/brand/poster-preview.png", {"site_name": "晚读社", "primary_color": "#aa0000"}
    )
    assert typed.status_code == 200
    assert _pixels(typed.content).getpixel(BAND) == (0xAA, 0, 0) == _pixels(typed.content).getpixel(FOOT)
    assert _pixels(typed.content, NAME_BOX).tobytes() != _pixels(saved.content, NAME_BOX).tobytes()
    assert _pixels(typed.content, QR_BOX).tobytes() == _pixels(saved.content, QR_BOX).tobytes()
    row = Brand.objects.get()
    assert (row.site_name, row.primary_color) == ("晨读社", "#3355cc")  # a preview saves nothing
    assert referral_poster_png(user=operator) == saved.content  # nor replaces the saved brand's poster


def test_the_live_preview_refuses_what_saving_would_refuse(client):
    _save_brand(site_name="晨读社", primary_color="#3355cc")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get("/admin/core/brand/poster-preview.png", {"primary_color": "blue"})
    assert response.status_code == 400 and "primary_color" in response.content.decode()
    too_long = client.get("/admin/core/brand/poster-preview.png", {"site_name": "名" * 41})
    assert too_long.status_code == 400 and "site_name" in too_long.content.decode()
    assert Brand.objects.get().primary_color == "#3355cc"


def test_staff_without_the_brand_permission_get_no_preview(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/core/brand/poster-preview.png").status_code == 403


def test_the_platform_name_is_written_only_as_the_brand_default():
    """ "知圈" is the default brand (core.brand, the Brand row's field defaults), never hard-coded in a
    page, a message, an e-mail or a poster."""
    root = Path(settings.BASE_DIR)
    allowed = {root / "core" / "brand.py", root / "core" / "models.py"}
    files = [*root.joinpath("templates").rglob("*.html"), *root.joinpath("templates").rglob("*.txt")]
    for package in PROJECT_APPS:
        files += [p for p in root.joinpath(package).rglob("*.py") if "migrations" not in p.parts]
    offenders = [
        str(p.relative_to(root)) for p in files if p not in allowed and "知圈" in p.read_text("utf-8")
    ]
    assert offenders == []

"""Chinese first: pages are zh-hans unless the visitor chose English; the API follows Accept-Language."""

import pytest
from django.conf import settings


@pytest.mark.django_db
def test_pages_stay_chinese_for_a_browser_that_prefers_english(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-hans"' in html


@pytest.mark.django_db
def test_choosing_english_in_the_switcher_shows_english_pages(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get("/").content.decode()
    assert 'lang="en"' in html


@pytest.mark.django_db
def test_api_messages_follow_the_clients_accept_language(client):
    english = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en").json()
    chinese = client.get("/api/v1/me/").json()
    assert english["code"] == chinese["code"] == "not_authenticated"
    assert english["message"] != chinese["message"]

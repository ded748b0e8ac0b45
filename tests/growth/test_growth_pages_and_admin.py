"""What operators and members click: the tag page's typed and CSV members (a bad row refuses all),
打标签 on the user list, a segment's preview, a campaign from draft to its figures, and the member's
message settings (SMS consent off by default, unsubscribe) on the web and through the API."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from core import roles
from growth.campaigns import services
from growth.models import Campaign, MarketingPreference, MemberTag, Segment, Tag
from insights.roles import roles_setup
from members.models import Notification
from tests.factories import UserFactory
from tests.growth.conftest import make_campaign, vip_ending

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, sender):
    client.force_login(sender)
    return client


@pytest.fixture
def operator_client(client):
    roles_setup()
    operator = UserFactory(is_staff=True, username="yunying")
    operator.groups.add(Group.objects.get(name=roles.OPERATOR))
    client.force_login(operator)
    return client


# ---- tags ---------------------------------------------------------------------------------------------------


def test_a_csv_with_a_bad_row_is_refused_on_the_tag_page_and_nothing_is_saved(admin_client):
    UserFactory(member_no="VIP00001")
    upload = SimpleUploadedFile("members.csv", b"member_no\nVIP00001\nVIP404\n", content_type="text/csv")
    page = admin_client.post(
        "/admin/growth/tag/add/", {"name": "沙龙到场", "kind": "import", "import_file": upload, "rule": ""}
    )
    assert page.status_code == 200
    assert "第 3 行：找不到会员 VIP404" in page.content.decode()
    assert not Tag.objects.exists() and not MemberTag.objects.exists()


def test_typed_and_uploaded_members_are_tagged_from_the_tag_page(admin_client, sender):
    UserFactory(member_no="VIP00001", username="typed")
    UserFactory(member_no="VIP00002", username="uploaded")
    upload = SimpleUploadedFile("members.csv", b"VIP00002\n", content_type="text/csv")
    answer = admin_client.post(
        "/admin/growth/tag/add/",
        {
            "name": "沙龙到场",
            "kind": "manual",
            "add_members": "VIP00001\n",
            "import_file": upload,
            "rule": "",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    rows = dict(MemberTag.objects.values_list("user__username", "source"))
    assert rows == {"typed": "manual", "uploaded": "import"}
    assert MemberTag.objects.filter(added_by=sender).count() == 2


def test_operators_tag_selected_users_from_the_user_list(operator_client):
    tag = Tag.objects.create(name="重点客户")
    members = [UserFactory(), UserFactory()]
    answer = operator_client.post(
        "/admin/members/user/",
        {"action": "tag_members", "_selected_action": [m.pk for m in members], "apply": "1", "tag": tag.pk},
    )
    assert answer.status_code == 302
    assert MemberTag.objects.filter(tag=tag).count() == 2
    answer = operator_client.post(
        "/admin/members/user/",
        {"action": "untag_members", "_selected_action": [members[0].pk], "apply": "1", "tag": tag.pk},
    )
    assert MemberTag.objects.filter(tag=tag).count() == 1


def test_a_rule_tag_is_recomputed_from_the_list(admin_client):
    UserFactory(username="quiet")
    tag = Tag.objects.create(
        name="从未访问",
        kind=Tag.Kind.RULE,
        rule={"conditions": [{"type": "activity", "visited": False, "days": 30}]},
    )
    admin_client.post("/admin/growth/tag/", {"action": "recompute_selected", "_selected_action": [tag.pk]})
    assert set(MemberTag.objects.filter(tag=tag).values_list("user__username", flat=True)) == {"quiet"}


# ---- segments -----------------------------------------------------------------------------------------------


def test_a_segment_page_previews_its_size_in_a_bounded_number_of_queries(
    admin_client, vip_ending_segment, django_assert_max_num_queries
):
    vip_ending(12)
    url = f"/admin/growth/segment/{vip_ending_segment.pk}/change/"
    admin_client.get(url)  # warm the session and the brand
    with django_assert_max_num_queries(16):
        page = admin_client.get(url).content.decode()
    assert "共 12 人" in page and "data-segment-count" in page


def test_a_segment_rule_that_is_not_valid_is_a_form_error(admin_client):
    answer = admin_client.post(
        "/admin/growth/segment/add/", {"name": "坏规则", "rule": '{"conditions": [{"type": "sql"}]}'}
    )
    assert answer.status_code == 200 and "type 须为" in answer.content.decode()
    assert not Segment.objects.exists()


# ---- campaigns ----------------------------------------------------------------------------------------------


def test_a_campaign_goes_from_draft_to_sent_with_its_figures(admin_client, vip_ending_segment, sender):
    vip_ending(2)
    answer = admin_client.post(
        "/admin/growth/campaign/add/",
        {
            "name": "续费提醒",
            "segment": vip_ending_segment.pk,
            "title": "你的 VIP 即将到期",
            "body": "续费顺延 365 天",
            "link": "/membership/VIP/",
            "send_insite": "on",
            "subscribe_template": "",
            "rate_per_minute": 600,
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:3000]
    campaign = Campaign.objects.get()
    assert campaign.created_by == sender and campaign.state == Campaign.State.DRAFT
    page = admin_client.get(f"/admin/growth/campaign/{campaign.pk}/change/").content.decode()
    assert "共 2 人" in page

    admin_client.post(
        "/admin/growth/campaign/", {"action": "schedule_selected", "_selected_action": [campaign.pk]}
    )
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SCHEDULED and campaign.scheduled_by == sender
    services.campaign_send_slice(campaign_id=campaign.pk)
    page = admin_client.get(f"/admin/growth/campaign/{campaign.pk}/change/").content.decode()
    assert "data-campaign-figures" in page and "<th>站内通知 已发送</th><td>2</td>" in page


def test_a_link_off_the_site_is_refused(admin_client, vip_ending_segment):
    answer = admin_client.post(
        "/admin/growth/campaign/add/",
        {
            "name": "外链",
            "segment": vip_ending_segment.pk,
            "title": "t",
            "body": "b",
            "link": "https://evil.example.com/",
            "send_insite": "on",
            "rate_per_minute": 10,
        },
    )
    assert answer.status_code == 200 and not Campaign.objects.exists()


def test_staff_without_the_send_permission_are_not_offered_scheduling(client, vip_ending_segment, sender):
    roles_setup()
    cs = UserFactory(is_staff=True)
    cs.groups.add(Group.objects.get(name=roles.CUSTOMER_SERVICE))
    campaign = make_campaign(vip_ending_segment, sender)
    client.force_login(cs)
    client.post("/admin/growth/campaign/", {"action": "schedule_selected", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT


# ---- the member's settings ----------------------------------------------------------------------------------


def test_sms_consent_is_off_until_ticked_and_each_change_keeps_its_time(client):
    member = UserFactory()
    client.force_login(member)
    page = client.get("/growth/messages/").content.decode()
    assert 'name="sms_consent"' in page and 'name="sms_consent" checked' not in page
    client.post("/growth/messages/", {"sms_consent": "on"})
    preference = MarketingPreference.objects.get(user=member)
    assert preference.sms_consent and preference.sms_consent_changed_at is not None
    assert not preference.unsubscribed
    consented_at = preference.sms_consent_changed_at
    client.post("/growth/messages/", {"sms_consent": "on", "unsubscribed": "on"})
    preference.refresh_from_db()
    assert preference.unsubscribed and preference.sms_consent_changed_at == consented_at


def test_a_campaign_notification_links_to_unsubscribing(client, vip_ending_segment, sender):
    (member,) = vip_ending(1)
    campaign = make_campaign(vip_ending_segment, sender)
    services.campaign_schedule(campaign=campaign, operator=sender)
    services.campaign_send_slice(campaign_id=campaign.pk)
    assert Notification.objects.filter(user=member, kind="campaign").exists()
    client.force_login(member)
    page = client.get("/account/notifications/").content.decode()
    assert 'href="/growth/messages/" data-unsubscribe' in page


def test_the_api_reads_and_changes_the_same_preferences():
    member = UserFactory()
    api = APIClient()
    api.force_authenticate(member)
    assert api.get("/api/v1/marketing-preferences/").json()["sms_consent"] is False
    answer = api.patch("/api/v1/marketing-preferences/", {"unsubscribed": True}, format="json")
    assert answer.status_code == 200 and answer.json()["unsubscribed"] is True
    assert answer.json()["unsubscribed_changed_at"] is not None
    assert (
        api.patch("/api/v1/marketing-preferences/", {"unsubscribed": "maybe"}, format="json").status_code
        == 400
    )
    assert APIClient().get("/api/v1/marketing-preferences/").status_code == 401
    assert timezone.now() >= MarketingPreference.objects.get(user=member).unsubscribed_changed_at

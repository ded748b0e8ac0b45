"""What courses' notification kinds are called in admin lists (core.discovery: `<app>.notification_kinds`)."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "camp_joined": _("报名训练营"),
    "camp_completed": _("训练营结营"),
    "camp_full_refund": _("训练营满员退款"),
    "checkin_reminder": _("打卡提醒"),
    "checkin_reviewed": _("作业点评"),
    "checkin_rejected": _("打卡未通过"),
    "course_completed": _("课程结业"),
    "homework_reviewed": _("作业批改"),
    "event_ticket": _("活动电子票"),
    "event_ticket_cancelled": _("电子票取消"),
    "event_waitlist_seat": _("候补转正"),
    "event_full_refund": _("活动满员退款"),
}

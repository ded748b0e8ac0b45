"""What circles' notification kinds are called in admin lists (core.discovery: `<app>.notification_kinds`)."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "circle_joined": _("加入圈子"),
    "circle_comment": _("帖子评论"),
    "circle_reply": _("评论回复"),
    "circle_featured": _("帖子加精"),
    "circle_post_rejected": _("帖子未通过审核"),
    "circle_guest": _("成为嘉宾"),
    "circle_removed": _("移出圈子"),
    "circle_rejoin_allowed": _("允许重新加入"),
    "circle_question": _("收到付费提问"),
    "circle_answer": _("提问已回答"),
    "circle_answer_rejected": _("回答未通过审核"),
    "circle_question_refund": _("提问未获回答退款"),
    "circle_tip": _("收到打赏"),
    "circle_post_published": _("定时帖子发布"),
}

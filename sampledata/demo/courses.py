"""Demo data of courses: a teacher, three courses (VIP-included, KA-only, sold singly), an offline event,
and a VIP-included writing camp with a running term, daily tasks and a few learners. Idempotent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.templatetags.static import static
from django.utils import timezone

from core.posters import cover_png
from core.roles import TEACHER
from courses.camps import checkins as camp_checkins
from courses.camps import reviews as camp_reviews
from courses.camps import seats as camp_seats
from courses.events import registrations as event_registrations
from courses.learning import playback as learning_playback
from courses.models import (
    Camp,
    CampTask,
    Course,
    Event,
    EventRegistration,
    Lesson,
    LessonProgress,
    Quiz,
    QuizOption,
    QuizQuestion,
    Source,
    Term,
    TermSeat,
    TierEventQuota,
)
from members.models import Membership, MembershipTier, SubscribeTemplate, User
from sampledata.demo.clock import at, days_ago
from sampledata.demo.members import DEMO_PASSWORD

# The catalogue predates the history's oldest orders; the event was announced, the term opened, before
# the VIP persona's story (sampledata/demo/members.py) reaches them.
CATALOGUE_SINCE_DAYS = 420
EVENT_ANNOUNCED_DAYS = 40
TERM_OPENED_DAYS = 20
# The VIP persona's lessons of the VIP course: (days ago, hour, seconds played in real time). Played
# through the player's heartbeats, so what counts as learned is what the server vouches for; the third
# is a text lesson opened for a moment (not long enough to be learned).
VIP_LESSONS = [(27, 21, 20), (20, 21, 20), (9, 22, 8)]
# Seconds between the demo player's heartbeats (the lessons are 20 s). Not the 5 s of
# playback.MIN_CREDIT_GAP: the demo clock ticks on (clock.at), so a heartbeat 5 s after the anchor arrives
# a few milliseconds short of it and is "too_soon" — on a loaded machine, a lesson was left unlearned.
HEARTBEAT_EVERY = 10
# The VIP course's quiz, on its last lesson, which its completion rule requires (the certificate waits
# for it): (question, kind, [(option, right)]).
VIP_QUIZ = [
    (
        "续费率主要取决于什么？",
        "single",
        [("会员持续感受到的价值", True), ("首单价格", False), ("海报设计", False)],
    ),
    (
        "以下哪些是复购的抓手？",
        "multiple",
        [("续费提醒", True), ("专属权益", True), ("频繁群发广告", False)],
    ),
]
VIP_TICKET_DAYS = 7

DEMO_MEDIA = "courses/demo-lesson.wav"  # a 20-second chime shipped in static/, so the player works offline

COURSES: list[dict[str, Any]] = [
    {
        "title": "私域增长实战 12 讲",
        "summary": "从引流、转化到复购，搭建会员制私域的完整方法",
        "description": "适合正在做知识付费、会员社群的创业者。\n每讲 10 分钟，配讲义与作业。",
        "price_fen": 19_900,
        "tiers": ["VIP"],
        "sort_order": 1,
        "lessons": [
            ("开篇：为什么卖会员而不是卖课", "audio", True),
            ("引流：三种低成本获客渠道", "audio", False),
            ("转化：会员权益怎么设计", "text", False),
            ("复购：续费率的四个抓手", "audio", False),
        ],
    },
    {
        "title": "高阶私董：企业增长战略",
        "summary": "KA 会员专享：年度增长战略拆解与案例",
        "description": "仅限 KA 大客户学习，不单独售卖。",
        "price_fen": 0,
        "tiers": ["KA"],
        "sort_order": 2,
        "lessons": [
            ("导读：增长战略的三层结构", "audio", True),
            ("案例：一家培训公司的会员化转型", "audio", False),
            ("工作坊：写出你的年度增长地图", "text", False),
        ],
    },
    {
        "title": "短视频文案速成",
        "summary": "7 天学会写出有转化的短视频脚本",
        "description": "单独购买即可学习；VIP 会员购买享 9 折。",
        "price_fen": 9_900,
        "tiers": [],
        "sort_order": 3,
        "lessons": [
            ("脚本的黄金三秒", "audio", True),
            ("钩子、冲突、行动：三段式结构", "audio", False),
            ("十个可直接套用的模板", "text", False),
        ],
    },
]

CAMP_TASKS = [
    "写下你的写作目标",
    "观察身边一件小事并记录",
    "用三段式写一个故事",
    "给一篇旧文重写标题",
    "写 300 字读书笔记",
    "采访一位朋友并成文",
    "第一周复盘",
]


def _user(username: str, nickname: str, *, staff: bool = False):
    user, created = User.objects.get_or_create(
        username=username, defaults={"nickname": nickname, "is_staff": staff}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user, created


def seed(*, stdout, history: bool = False) -> None:
    tiers = {t.code: t for t in MembershipTier.objects.all()}
    teacher, _created = _user("teacher", "王老师·增长教练", staff=True)
    group, _created = Group.objects.get_or_create(name=TEACHER)
    teacher.groups.add(group)
    media_url = f"{settings.SITE_URL}{static(DEMO_MEDIA)}"

    with at(days_ago(CATALOGUE_SINCE_DAYS, hour=10)):
        for spec in COURSES:
            course = _course(spec, teacher=teacher, tiers=tiers, media_url=media_url)
            if spec is COURSES[0]:
                _quiz(course)

    if "VIP" in tiers:
        TierEventQuota.objects.get_or_create(tier=tiers["VIP"], defaults={"events_per_year": 1})
    now = timezone.now()
    starts = timezone.localtime(now + timedelta(days=20)).replace(hour=13, minute=30, second=0, microsecond=0)
    with at(days_ago(EVENT_ANNOUNCED_DAYS, hour=10)):
        event = _event(starts=starts, teacher=teacher, tiers=tiers)
    with at(days_ago(CATALOGUE_SINCE_DAYS, hour=10)):
        camp = _camp(teacher=teacher, tiers=tiers)
    today = timezone.localdate()
    term = Term.objects.filter(camp=camp, name="第1期").first()
    if term is None:
        with at(days_ago(TERM_OPENED_DAYS, hour=10)):
            term = Term.objects.create(
                camp=camp, name="第1期", start_date=today - timedelta(days=3), days=camp.days
            )
        _seed_learners(term=term, teacher=teacher)
    _seed_subscribe_template()
    stdout.write(
        f"courses: {len(COURSES)} courses, event «{event.title}», camp «{camp.title}» {term.name} "
        f"({term.start_date:%m-%d}–{term.end_date:%m-%d}); teacher login teacher / {DEMO_PASSWORD}"
    )


def _course(spec: dict[str, Any], *, teacher, tiers, media_url: str) -> Course:
    course, created = Course.objects.get_or_create(
        title=spec["title"],
        defaults={
            "summary": spec["summary"],
            "description": spec["description"],
            "teacher": teacher,
            "price_fen": spec["price_fen"],
            "sort_order": spec["sort_order"],
        },
    )
    if created:
        course.included_in_tiers.set([tiers[c] for c in spec["tiers"] if c in tiers])
        for position, (title, kind, preview) in enumerate(spec["lessons"], start=1):
            Lesson.objects.create(
                course=course,
                title=title,
                position=position,
                kind=kind,
                media_url=media_url if kind != "text" else "",
                duration_seconds=20 if kind != "text" else 0,
                body=f"【讲义】{title}\n\n本讲要点：\n1. 明确目标用户\n2. 设计可感知的权益\n3. 用数据复盘",
                is_preview=preview,
            )
    return course


def _play(user, lesson: Lesson, *, started: datetime, seconds: int) -> None:
    """A member plays `seconds` of a lesson from `started`, the player's heartbeats at their moments."""
    with at(started):
        state = learning_playback.playback_start(user=user, lesson=lesson)
    if lesson.kind == Lesson.Kind.TEXT:
        return
    for position in range(HEARTBEAT_EVERY, seconds + 1, HEARTBEAT_EVERY):
        with at(started + timedelta(seconds=position)):
            learning_playback.playback_heartbeat(
                user=user, lesson_id=lesson.pk, session_id=state.session_id, position_seconds=position
            )


def _quiz(course: Course) -> None:
    """The VIP course's quiz on its last lesson; its completion rule requires passing it."""
    lesson = course.lessons.order_by("-position").first()
    if lesson is None or Quiz.objects.filter(lesson=lesson).exists():
        return
    quiz = Quiz.objects.create(lesson=lesson, title="复购小测验", pass_percent=60, max_attempts=3)
    for position, (text, kind, options) in enumerate(VIP_QUIZ, start=1):
        question = QuizQuestion.objects.create(quiz=quiz, position=position, text=text, kind=kind)
        for number, (label, right) in enumerate(options, start=1):
            QuizOption.objects.create(question=question, position=number, text=label, is_correct=right)
    Course.objects.filter(pk=course.pk).update(require_quizzes=True)


def _event(*, starts, teacher, tiers) -> Event:
    event, created = Event.objects.get_or_create(
        title="上海线下私董会 · 增长闭门课",
        defaults={
            "summary": "一天的线下闭门课，和 30 位创始人一起拆解增长问题",
            "description": "流程：13:30 签到 · 14:00 主题分享 · 16:00 分组私董 · 18:00 晚宴交流。\n"
            "VIP 会员每年可免费报名一次，KA 会员不限次数。",
            "city": "上海",
            "venue": "静安嘉里中心 3 楼会议室",
            "address": "上海市静安区南京西路 1515 号",
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=6),
            "capacity": 40,
            "price_fen": 99_900,
            "organizer": teacher,
        },
    )
    if created:
        event.included_in_tiers.set([tiers[c] for c in ("VIP",) if c in tiers])
    return event


def _camp(*, teacher, tiers) -> Camp:
    camp, created = Camp.objects.get_or_create(
        title="21天写作打卡营",
        defaults={
            "summary": "每天一个小任务，21 天养成写作习惯",
            "description": "每天 0 点解锁当天任务，20:00 前未打卡会收到提醒。\n支持 2 天内补卡（每期 3 次），老师逐条点评。",
            "teacher": teacher,
            "price_fen": 19_900,
            "days": 21,
            "reminder_time": time(20, 0),
            "makeup_days": 2,
            "makeup_limit": 3,
        },
    )
    if created:
        camp.included_in_tiers.set([tiers[c] for c in ("VIP",) if c in tiers])
        for day in range(1, camp.days + 1):
            title = CAMP_TASKS[(day - 1) % len(CAMP_TASKS)]
            CampTask.objects.create(
                camp=camp,
                day=day,
                title=f"{title}" if day <= len(CAMP_TASKS) else f"{title}（第{(day - 1) // 7 + 1}周）",
                body=f"第{day}天任务：{title}。写完后在下方打卡，可以附上图片。",
            )
    return camp


def _seed_learners(*, term, teacher) -> None:
    """A few learners with past check-ins (one reviewed the next morning), so the feed, queue and
    leaderboard are alive; each step at its moment: seats before the term, check-ins on their days."""
    tz = timezone.get_current_timezone()
    learners = [("learner1", "小林", 3), ("learner2", "阿杰", 2), ("learner3", "Mia", 1)]
    before_start = datetime.combine(term.start_date - timedelta(days=2), time(19, 0), tzinfo=tz)
    for username, nickname, days_done in learners:
        with at(before_start):
            user, _created = _user(username, nickname)
            camp_seats.seat_grant(term=term, user=user, source=Source.GRANT)
        for day in range(1, days_done + 1):
            task = CampTask.objects.get(camp=term.camp, day=day)
            when = datetime.combine(term.date_of_day(day), time(21, 0), tzinfo=tz)
            with at(when):
                checkin = camp_checkins.checkin_submit(
                    user=user,
                    term=term,
                    task=task,
                    text=f"第{day}天打卡：今天完成了「{task.title}」，写了 300 多字，收获是先写再改。",
                    now=when,
                )
            if username == "learner1" and day == 1:
                with at(when + timedelta(hours=12)):
                    camp_reviews.checkin_review(
                        checkin=checkin, reviewer=teacher, comment="结构清晰，继续保持！", score=5
                    )


def _seed_subscribe_template() -> None:
    """The check-in reminder template key, for the operator to paste WeChat's template id into."""
    SubscribeTemplate.objects.get_or_create(
        key="checkin_reminder",
        defaults={"name": "训练营打卡提醒", "fields": "thing1,thing2,date3", "template_id": ""},
    )


def seed_late(*, stdout, history: bool = False) -> None:
    """The VIP persona (`vip`, 林晓雨, VIP since a month ago: sampledata/demo/members.py) learns: half of the
    VIP course over the weeks after joining, a seat in the writing camp two days before its term and a
    check-in each morning since (today's task still open), a ticket to the event a week ago. Each step
    through the real services at its moment (sampledata/demo/clock.py)."""
    _seed_covers()
    vip = User.objects.filter(username="vip").first()
    if vip is None or not Membership.objects.filter(user=vip).exists():
        stdout.write("courses: no VIP persona, nothing learned")
        return
    course = Course.objects.filter(title=COURSES[0]["title"]).first()
    if course is not None:
        lessons = list(Lesson.objects.filter(course=course, is_published=True).order_by("position"))
        for lesson, (days, hour, seconds) in zip(lessons, VIP_LESSONS, strict=False):
            if LessonProgress.objects.filter(user=vip, lesson=lesson).exists():
                continue
            _play(vip, lesson, started=days_ago(days, hour=hour), seconds=seconds)
    term = Term.objects.filter(camp__title="21天写作打卡营", name="第1期").select_related("camp").first()
    if term is not None:
        tz = timezone.get_current_timezone()
        if not TermSeat.objects.filter(term=term, user=vip).exists():
            with at(
                min(
                    datetime.combine(term.start_date - timedelta(days=2), time(12, 0), tzinfo=tz), days_ago(0)
                )
            ):
                camp_seats.term_join(user=vip, term=term)
        today_day = term.day_number(timezone.localdate())
        for day in range(1, min(today_day, 4)):
            task = CampTask.objects.get(camp=term.camp, day=day)
            if task.checkins.filter(user=vip).exists():
                continue
            when = datetime.combine(term.date_of_day(day), time(7, 30), tzinfo=tz)
            with at(when):
                camp_checkins.checkin_submit(
                    user=vip,
                    term=term,
                    task=task,
                    text=f"第{day}天：「{task.title}」完成。先写下三个要点，再扩成 400 字，明天试试晨间写作。",
                    now=when,
                )
    event = Event.objects.filter(title="上海线下私董会 · 增长闭门课").first()
    if event is not None and not EventRegistration.objects.filter(event=event, user=vip).exists():
        with at(days_ago(VIP_TICKET_DAYS, hour=12, minute=30)):
            event_registrations.event_register(user=vip, event=event)
    stdout.write("courses: persona vip (林晓雨) learned, checked in and holds a ticket")


def _seed_covers() -> None:
    """Generated covers (Pillow) for demo courses, camps and events that have none."""
    kinds: tuple[tuple[Any, str], ...] = (  # three models with a `cover` and a `title`
        (Course, "课程"),
        (Camp, "训练营"),
        (Event, "线下活动"),
    )
    for index, (model, kicker) in enumerate(kinds):
        for offset, item in enumerate(model.objects.filter(cover="").order_by("id")):
            png = cover_png(title=item.title, kicker=kicker, index=index * 2 + offset)
            item.cover.save(f"demo-{model._meta.model_name}-{item.pk}.png", ContentFile(png), save=True)

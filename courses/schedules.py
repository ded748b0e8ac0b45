from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    PeriodicJob(
        "训练营：打卡提醒",
        "courses.tasks.checkin_reminders",
        every_seconds=300,
        description="Remind members of active terms who have not checked in by the camp's reminder time.",
    ),
]

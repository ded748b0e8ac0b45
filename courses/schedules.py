from core.discovery import PeriodicJob

DEFAULT_SCHEDULES = [
    PeriodicJob(
        "训练营：打卡提醒",
        "courses.tasks.checkin_reminders",
        every_seconds=300,
        description="Remind members of active terms who have not checked in by the camp's reminder time.",
    ),
    PeriodicJob(
        "线下课：释放过期占座并递补候补",
        "courses.tasks.events_sweep",
        every_seconds=60,
        description="Release seats held for payment that expired and give them to the waitlist.",
    ),
    PeriodicJob(
        "加密音视频：补发转码任务",
        "courses.tasks.media_transcode_sweep",
        every_seconds=600,
        description="Enqueue media assets whose transcoding task was lost (broker down, worker killed).",
    ),
]

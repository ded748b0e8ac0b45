"""Create the staff role groups (core/roles.py) with their model permissions (insights/roles.py)."""

from django.core.management.base import BaseCommand

from insights.roles import roles_setup


class Command(BaseCommand):
    help = "Create or reset the staff role groups (运营, 财务, 讲师, 圈主, 销售, 客服) and their permissions."

    def handle(self, *args, **options):
        counts = roles_setup()
        for role, count in counts.items():
            self.stdout.write(f"role {role}: {count} permissions")
        self.stdout.write(self.style.SUCCESS("roles ready"))

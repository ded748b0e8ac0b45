"""Demo data of the creator's brand: the row exists (with the platform's defaults), so 系统 → 品牌设置
opens the brand's form to edit rather than a form to add one. Idempotent."""

from __future__ import annotations

from core.models import Brand


def seed(*, stdout, history: bool = False) -> None:
    row, created = Brand.objects.get_or_create(pk=1)
    stdout.write(
        f"brand: «{row.site_name}» (admin → 系统 → 品牌设置{'; created with the defaults' if created else ''})"
    )

from django.db import migrations, models

OLD_DEFAULT = "知圈收益提现"


def follow_the_brand(apps, schema_editor):
    """The remark nobody edited (the platform's old default) becomes empty: the brand's name then."""
    apps.get_model("payments", "WithdrawalSettings").objects.filter(transfer_remark=OLD_DEFAULT).update(
        transfer_remark=""
    )


def back_to_the_old_default(apps, schema_editor):
    apps.get_model("payments", "WithdrawalSettings").objects.filter(transfer_remark="").update(
        transfer_remark=OLD_DEFAULT
    )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0008_field_labels"),
    ]

    operations = [
        migrations.AlterField(
            model_name="withdrawalsettings",
            name="transfer_remark",
            field=models.CharField(
                blank=True,
                default="",
                help_text="留空则用「站点简称 + 收益提现」",
                max_length=32,
                verbose_name="转账备注（用户可见）",
            ),
        ),
        migrations.RunPython(follow_the_brand, back_to_the_old_default),
    ]

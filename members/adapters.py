"""django-allauth adapter: phone numbers live encrypted on our User; codes go through SMS_SENDER."""

from allauth.account.adapter import DefaultAccountAdapter

from core.crypto import normalize_phone
from members.models import User
from members.sms import sms_sender


class AccountAdapter(DefaultAccountAdapter):
    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        sms_sender().send(normalize_phone(phone), code)

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        sms_sender().send(normalize_phone(phone), "（该手机号尚未注册知圈）")

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.set_phone(phone, verified=verified)
        if user.pk:
            user.save(update_fields=["phone", "phone_hash", "phone_verified"])

    def get_phone(self, user) -> tuple[str, bool] | None:
        return (user.phone, user.phone_verified) if user.phone else None

    def set_phone_verified(self, user, phone: str) -> None:
        user.phone_verified = True
        user.save(update_fields=["phone_verified"])

    def get_user_by_phone(self, phone: str):
        return User.objects.filter_by_phone(phone).first()

    def populate_username(self, request, user) -> None:
        if not user.username:
            user.username = User.objects.generate_username("web")

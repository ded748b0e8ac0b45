"""Log filter that masks phone numbers and WeChat openids/unionids in every record."""

import logging
import re

_PHONE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# openids/unionids are 28-char tokens starting with "o" (mini-program/公众号 openids, unionids).
_OPENID = re.compile(r"(?<![A-Za-z0-9_-])(o[A-Za-z0-9_-]{3})[A-Za-z0-9_-]{20,}(?![A-Za-z0-9_-])")
# Named values: personal data, and the credentials WeChat's own protocol puts into URLs
# (jscode2session?secret=…&js_code=…, …?access_token=…) which HTTP client debug logs print.
_KEYED = re.compile(
    r"((?:openid|unionid|session_key|phone|secret|js_code|access_token|password|real_name)"
    r"[\"']?\s*[:=]\s*[\"']?)([^\s\"',&}]+)",
    re.I,
)


def mask_text(text: str) -> str:
    text = _KEYED.sub(lambda m: m.group(1) + "***", text)
    text = _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _OPENID.sub(lambda m: m.group(1) + "***", text)


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not lose the record
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
